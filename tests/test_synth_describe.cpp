// Descriptions in the world: the caption family ("Describe the image.") in the unlabeled pool, and
// the description benchmark written as COCO annotation files (chair/) for CHAIR.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "eval/chair.h"
#include "io/files.h"
#include "io/jsonl.h"
#include "method/sample.h"
#include "synth/questions.h"
#include "synth/render.h"
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
  o.describe = 12;
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

TEST(SynthDescribe, ChairFilesMatchTheScenes) {
  const std::string dir = test::temp_dir("describe_chair");
  const auto m = synth::write_world(tiny_world(dir));
  EXPECT_EQ(std::string(synth::kChairDir), "chair");
  const std::string chair = dir + "/chair";
  const auto inst = io::read_json(chair + "/instances_bench.json");
  const auto caps = io::read_json(chair + "/captions_bench.json");
  EXPECT_EQ(inst["licenses"], json::array());
  EXPECT_EQ(inst["info"]["split"], "bench");

  // Images: the first 12 bench images, id = index + 1, paths relative to DIR/images.
  ASSERT_EQ(inst["images"].size(), 12u);
  EXPECT_EQ(caps["images"], inst["images"]);
  for (int64_t i = 0; i < 12; ++i) {
    const auto& im = inst["images"][i];
    EXPECT_EQ(im["id"], i + 1);
    EXPECT_EQ(im["file_name"], synth::image_rel_path("bench", i));
    EXPECT_EQ(im["file_name"], "bench/bench_0000" + std::string(i < 10 ? "0" : "") + std::to_string(i) + ".png");
    EXPECT_EQ(im["width"], 48);
    EXPECT_EQ(im["height"], 48);
    EXPECT_TRUE(io::file_exists(dir + "/images/" + im["file_name"].get<std::string>()));
  }

  // Categories: the 12 kinds, id = kind + 1.
  ASSERT_EQ(inst["categories"].size(), 12u);
  EXPECT_EQ(inst["categories"][0], json({{"id", 1}, {"name", "red circle"}, {"supercategory", "circle"}}));
  EXPECT_EQ(inst["categories"][5], json({{"id", 6}, {"name", "green square"}, {"supercategory", "square"}}));
  for (int k = 0; k < synth::kKinds; ++k) {
    EXPECT_EQ(inst["categories"][k]["id"], k + 1);
    EXPECT_EQ(inst["categories"][k]["name"], synth::kind_name(k));
    EXPECT_EQ(inst["categories"][k]["supercategory"], synth::kShapeNames[synth::kind_shape(k)]);
  }

  // Annotations: one per object, in image then cell order, ids 1..N; boxes tight around the shape.
  std::map<int64_t, std::vector<json>> by_image;
  int64_t next_id = 1;
  for (const auto& a : inst["annotations"]) {
    EXPECT_EQ(a["id"], next_id++);
    EXPECT_EQ(a["iscrowd"], 0);
    by_image[a["image_id"].get<int64_t>()].push_back(a);
  }
  int64_t objects = 0;
  for (int64_t i = 0; i < 12; ++i) {
    const auto s = synth::sample_scene(kSeed, "bench", i);
    const auto& anns = by_image[i + 1];
    ASSERT_EQ(anns.size(), s.objects.size()) << i;
    objects += static_cast<int64_t>(s.objects.size());
    for (size_t j = 0; j < anns.size(); ++j) {
      const auto& ob = s.objects[j];
      EXPECT_EQ(anns[j]["category_id"], ob.kind() + 1);
      const std::vector<int> b = anns[j]["bbox"];
      ASSERT_EQ(b.size(), 4u);
      EXPECT_EQ(anns[j]["area"], b[2] * b[3]);
      EXPECT_GE(b[2], ob.size - 3);
      EXPECT_LE(b[2], ob.size + 1);
      EXPECT_GE(b[3], ob.size - 3);
      EXPECT_LE(b[3], ob.size + 1);
      // Inside its cell, and the tight box of the pixels the shape covers.
      EXPECT_GE(b[0], (ob.cell % 3) * 16);
      EXPECT_LE(b[0] + b[2], (ob.cell % 3) * 16 + 16);
      EXPECT_GE(b[1], (ob.cell / 3) * 16);
      EXPECT_LE(b[1] + b[3], (ob.cell / 3) * 16 + 16);
      int x0 = 99, y0 = 99, x1 = -1, y1 = -1;
      for (int y = 0; y < synth::kImageSize; ++y)
        for (int x = 0; x < synth::kImageSize; ++x)
          if (synth::object_covers(ob, x, y)) {
            x0 = std::min(x0, x), y0 = std::min(y0, y), x1 = std::max(x1, x), y1 = std::max(y1, y);
          }
      EXPECT_EQ(b, (std::vector<int>{x0, y0, x1 - x0 + 1, y1 - y0 + 1})) << i << " " << j;
    }
    // The kinds a caption names are exactly the annotated ones.
    std::multiset<std::string> named, annotated;
    for (const auto& a : anns) annotated.insert(synth::kind_name(a["category_id"].get<int>() - 1));
    for (const auto& o : s.objects) named.insert(synth::kind_name(o.kind()));
    EXPECT_EQ(named, annotated);
  }
  EXPECT_EQ(by_image.size(), 12u);  // every annotation on one of the 12 images

  // Captions: one per image, the world's description of it.
  ASSERT_EQ(caps["annotations"].size(), 12u);
  for (int64_t i = 0; i < 12; ++i) {
    const auto& c = caps["annotations"][i];
    EXPECT_EQ(c["id"], i + 1);
    EXPECT_EQ(c["image_id"], i + 1);
    EXPECT_EQ(c["caption"], synth::caption(synth::sample_scene(kSeed, "bench", i)));
  }
  EXPECT_FALSE(caps.contains("categories"));

  // objects.txt: a '#' header, then the 12 kinds, one a line, in category order.
  const std::string txt = io::read_file(chair + "/objects.txt");
  std::vector<std::string> lines, nodes;
  for (size_t b = 0, e; b < txt.size(); b = e + 1) {
    e = txt.find('\n', b);
    ASSERT_NE(e, std::string::npos);  // ends with a newline
    lines.push_back(txt.substr(b, e - b));
  }
  ASSERT_GT(lines.size(), 12u);
  EXPECT_EQ(lines[0].rfind("#", 0), 0u);
  for (const auto& l : lines)
    if (l.rfind("#", 0) != 0) nodes.push_back(l);
  ASSERT_EQ(nodes.size(), 12u);
  for (int k = 0; k < synth::kKinds; ++k) EXPECT_EQ(nodes[k], synth::kind_name(k));
  EXPECT_NE(txt.find("hallucination"), std::string::npos);

  // The manifest names the benchmark.
  const auto w = io::read_json(dir + "/world.json");
  EXPECT_EQ(w["chair"], json({{"dir", "chair"}, {"split", "bench"}, {"images", 12}, {"objects", objects},
                              {"instances", "instances_bench.json"}, {"captions", "captions_bench.json"},
                              {"vocabulary", "objects.txt"}, {"question", "Describe the image."}}));
  EXPECT_EQ(m["chair"], w["chair"]);
}

// The files go through the reader of real COCO annotations (eval/chair.h) with objects.txt as the
// vocabulary, and mentions count as objects.txt's header says.
TEST(SynthDescribe, ChairReadsTheBenchmarkAsObjectsTxtDescribesIt) {
  const std::string dir = test::temp_dir("describe_chair_read");
  synth::write_world(tiny_world(dir));
  const auto b = eval::read_chair_benchmark(dir + "/chair", "bench", dir + "/chair/objects.txt", "/usr/share/wordnet");
  ASSERT_EQ(b.images.size(), 12u);
  std::vector<eval::ChairAnswer> truth, wrong;
  std::vector<int64_t> asked;
  for (int64_t i = 0; i < 12; ++i) {
    const auto s = synth::sample_scene(kSeed, "bench", i);
    std::set<std::string> kinds;
    for (const auto& o : s.objects) kinds.insert(synth::kind_name(o.kind()));
    EXPECT_EQ(b.images[i].id, i + 1);
    EXPECT_EQ(b.images[i].file_name, synth::image_rel_path("bench", i));
    EXPECT_EQ(b.images[i].objects, kinds) << i;
    truth.push_back({i + 1, synth::caption(s), -1});
    int absent = 0;
    while (s.has_kind(absent)) ++absent;
    wrong.push_back({i + 1, "There is a " + synth::kind_name(absent) + ".", -1});
    asked.push_back(i + 1);
  }
  // The world's own descriptions: nothing hallucinated, every object named.
  auto r = eval::score_chair(b, truth, asked, {});
  EXPECT_EQ(r["overall"]["chair_s"], 0.0);
  EXPECT_EQ(r["overall"]["chair_i"], 0.0);
  EXPECT_EQ(r["overall"]["recall"], 1.0);
  // An absent kind is a hallucination.
  r = eval::score_chair(b, wrong, asked, {});
  EXPECT_EQ(r["overall"]["chair_s"], 1.0);
  EXPECT_EQ(r["overall"]["chair_i"], 1.0);
  // Colour + shape, singular or plural, is a mention of the kind; a shape or a colour alone is none.
  const auto m = eval::chair_mentions("Two blue squares and a red circle. A triangle is green, the circle red.",
                                      b.vocabulary, *b.lemmatizer);
  EXPECT_EQ(m.nodes, (std::vector<std::string>{"blue square", "red circle"}));
}

TEST(SynthDescribe, DescribeZeroWritesNoneAndMoreThanBenchIsCut) {
  const std::string dir = test::temp_dir("describe_counts");
  auto o = tiny_world(dir);
  o.describe = 1000;  // more than --bench 20: cut to 20
  synth::write_world(o);
  EXPECT_EQ(io::read_json(dir + "/chair/instances_bench.json")["images"].size(), 20u);
  EXPECT_EQ(io::read_json(dir + "/chair/captions_bench.json")["annotations"].size(), 20u);
  EXPECT_EQ(io::read_json(dir + "/world.json")["chair"]["images"], 20);

  o.describe = 0;  // over the previous world: its chair/ goes
  synth::write_world(o);
  EXPECT_FALSE(io::file_exists(dir + "/chair"));
  EXPECT_FALSE(io::read_json(dir + "/world.json").contains("chair"));
  EXPECT_EQ(io::read_jsonl(dir + "/pope.jsonl").size(), 20u);  // the rest of the bench is there

  o.describe = 5;
  o.bench = 0;  // no bench, no benchmark
  synth::write_world(o);
  EXPECT_FALSE(io::file_exists(dir + "/chair"));

  o.bench = 20;
  o.describe = -1;
  EXPECT_THROW(synth::write_world(o), std::invalid_argument);
}

TEST(SynthDescribe, RefusesAChairDirectoryThatIsNotAWorlds) {
  const std::string dir = test::temp_dir("describe_refuse");
  io::make_dir(dir + "/chair");
  io::write_file_atomic(dir + "/chair/keep.json", "{}");
  EXPECT_THROW(synth::write_world(tiny_world(dir)), std::runtime_error);
  EXPECT_TRUE(io::file_exists(dir + "/chair/keep.json"));
}
