// Descriptions in the world: the caption family ("Describe the image.") in the unlabeled pool.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "io/files.h"
#include "io/jsonl.h"
#include "method/sample.h"
#include "synth/questions.h"
#include "synth/scene.h"
#include "synth/world.h"
#include "test_helpers.h"
#include "util/rng.h"

using namespace seva;
using nlohmann::json;

namespace {

constexpr uint64_t kSeed = 11;

synth::WorldOptions tiny_world(const std::string& dir) {
  synth::WorldOptions o;
  o.out = dir;
  o.seed = kSeed;
  o.train = 0;
  o.pool = 14;
  o.bench = 20;
  o.quiet = true;
  return o;
}

std::map<std::string, json> labels_by_id(const std::string& dir) {
  std::map<std::string, json> out;
  for (const auto& row : io::read_jsonl(dir + "/pool_labels.jsonl")) out[row["id"]] = row;
  return out;
}

// pool_labels rows keyed by (image index, family).
std::map<std::pair<int64_t, std::string>, json> labels_by_image_family(const std::string& dir) {
  std::map<std::pair<int64_t, std::string>, json> out;
  for (const auto& row : io::read_jsonl(dir + "/pool_labels.jsonl")) {
    const std::string id = row["id"];  // pool_000003_1
    out[{std::stoll(id.substr(5, 6)), row["family"].get<std::string>()}] = row;
  }
  return out;
}

}  // namespace

TEST(SynthDescribe, PoolHoldsDescriptionsByDefault) {
  const std::string dir = test::temp_dir("describe_pool");
  const auto m = synth::write_world(tiny_world(dir));
  EXPECT_EQ(m["pool_families"], json({"color", "count", "position", "exist", "text", "choice", "caption"}));
  EXPECT_EQ(m["families"].size(), 6u);  // the question families: unchanged

  // 14 images, one question each, seven families in rotation: two of each; image i gets family i % 7.
  const auto labels = labels_by_id(dir);
  ASSERT_EQ(labels.size(), 14u);
  std::map<std::string, int> fams;
  for (const auto& [id, row] : labels) ++fams[row["family"]];
  for (const char* f : {"color", "count", "position", "exist", "text", "choice", "caption"}) EXPECT_EQ(fams[f], 2) << f;
  for (int64_t i : {6, 13}) {
    const auto& row = labels.at("pool_0000" + std::string(i < 10 ? "0" : "") + std::to_string(i) + "_0");
    EXPECT_EQ(row["family"], "caption");
    EXPECT_EQ(row["text"], "Describe the image.");
    EXPECT_EQ(row["answer"], synth::caption(synth::sample_scene(kSeed, "pool", i)));
    EXPECT_EQ(row["category"], "");
    EXPECT_EQ(row["hard"], "");
    EXPECT_EQ(row["image"], synth::image_rel_path("pool", i));
  }
  // The pool file asks it as the base learnt it in SFT stage 1, and `seva sample` takes it.
  const auto pool = io::read_json(dir + "/pool.json");
  EXPECT_EQ(pool[6]["conversations"][0]["value"], "<image>\nDescribe the image.");
  EXPECT_EQ(pool[6]["conversations"].size(), 1u);
  method::SampleOptions so;
  so.instructions = dir + "/pool.json";
  int captions = 0;
  for (const auto& q : method::sample_questions(so, nullptr)) {
    ASSERT_TRUE(labels.count(q.id)) << q.id;
    EXPECT_EQ(labels.at(q.id)["text"], q.text);
    captions += q.text == "Describe the image.";
  }
  EXPECT_EQ(captions, 2);
  EXPECT_EQ(std::string(synth::kDescribeQuestion), "Describe the image.");
}

TEST(SynthDescribe, NamedFamiliesWithoutCaptionHaveNone) {
  const std::string dir = test::temp_dir("describe_named");
  auto o = tiny_world(dir);
  o.pool_families = {"color", "exist", "text"};
  o.pool_questions_per_image = 3;
  synth::write_world(o);
  const auto labels = labels_by_id(dir);
  ASSERT_EQ(labels.size(), 42u);
  for (const auto& [id, row] : labels) {
    EXPECT_NE(row["family"], "caption") << id;
    EXPECT_NE(row["text"], "Describe the image.") << id;
  }
  // Caption alone is a valid pool: every question a description.
  o.pool_families = {"caption"};
  o.pool_questions_per_image = 1;
  synth::write_world(o);
  const auto only = labels_by_id(dir);
  ASSERT_EQ(only.size(), 14u);
  for (const auto& [id, row] : only) {
    EXPECT_EQ(row["family"], "caption");
    EXPECT_EQ(row["answer"], synth::caption(synth::sample_scene(kSeed, "pool", std::stoll(id.substr(5, 6)))));
  }
  // Seven families are now possible per image; eight are not.
  o.pool_families = {};
  o.pool_questions_per_image = 7;
  EXPECT_NO_THROW(synth::write_world(o));
  EXPECT_EQ(labels_by_id(dir).size(), 98u);
  o.pool_questions_per_image = 8;
  EXPECT_THROW(synth::write_world(o), std::invalid_argument);
}

// The question an image gets in a family depends on (seed, image, family) only: not on the family
// list (adding caption changes which family an image gets, never what a family asks it) nor on the
// other questions of the image. Each is drawn from a fresh copy of the image's stream.
TEST(SynthDescribe, PoolQuestionDependsOnImageAndFamilyOnly) {
  const std::string a = test::temp_dir("describe_stream_a"), b = test::temp_dir("describe_stream_b");
  auto oa = tiny_world(a), ob = tiny_world(b);
  oa.pool_families = {"color", "count", "position", "exist", "text", "choice"};
  oa.pool_questions_per_image = 3;
  ob.pool_questions_per_image = 4;  // the default seven families
  synth::write_world(oa);
  synth::write_world(ob);
  const auto la = labels_by_image_family(a), lb = labels_by_image_family(b);
  const synth::WorldStats stats = synth::compute_stats(kSeed);
  int shared = 0;
  for (const auto& [key, row] : la) {
    const auto it = lb.find(key);
    if (it != lb.end()) {
      ++shared;
      EXPECT_EQ(row["text"], it->second["text"]) << key.first << " " << key.second;
      EXPECT_EQ(row["answer"], it->second["answer"]) << key.first << " " << key.second;
    }
    util::Rng rng(util::hash_key(kSeed, "questions/pool", std::to_string(key.first)));
    const auto q = synth::make_question(synth::family_from_name(key.second), synth::sample_scene(kSeed, "pool", key.first),
                                        rng, stats);
    EXPECT_EQ(row["text"], q.question);
    EXPECT_EQ(row["answer"], q.answer);
  }
  EXPECT_GT(shared, 10);
}
