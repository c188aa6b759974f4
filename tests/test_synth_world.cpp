// `seva world`'s files: each parses with the readers users' files go through, the splits are
// disjoint, benchmarks are balanced, the same seed gives the same bytes.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "eval/base64.h"
#include "eval/mmbench.h"
#include "eval/pope.h"
#include "eval/vqa.h"
#include "image/decode.h"
#include "io/files.h"
#include "io/jsonl.h"
#include "method/sample.h"
#include "synth/questions.h"
#include "synth/scene.h"
#include "synth/world.h"
#include "test_helpers.h"
#include "train/sft.h"

using namespace seva;
namespace fs = std::filesystem;

namespace {

synth::WorldOptions small_world(const std::string& dir, uint64_t seed = 7) {
  synth::WorldOptions o;
  o.out = dir;
  o.seed = seed;
  o.train = 30;
  o.pool = 24;
  o.bench = 60;
  o.quiet = true;
  return o;
}

}  // namespace

TEST(SynthWorld, Base64EncodeRoundTrips) {
  EXPECT_EQ(eval::base64_encode(""), "");
  EXPECT_EQ(eval::base64_encode("f"), "Zg==");
  EXPECT_EQ(eval::base64_encode("fo"), "Zm8=");
  EXPECT_EQ(eval::base64_encode("foo"), "Zm9v");
  EXPECT_EQ(eval::base64_encode("foobar"), "Zm9vYmFy");
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  for (size_t n = 0; n < 10; ++n) EXPECT_EQ(eval::base64_decode(eval::base64_encode(bytes.substr(0, n)), "t"), bytes.substr(0, n));
  EXPECT_EQ(eval::base64_decode(eval::base64_encode(bytes), "t"), bytes);
}

TEST(SynthWorld, EveryFileParsesWithTheProjectsReaders) {
  const std::string dir = test::temp_dir("world");
  const auto opts = small_world(dir);
  const auto manifest = synth::write_world(opts);
  const std::string images = dir + "/images";

  // SFT stage 1: one caption conversation per train image.
  int64_t skipped = -1;
  auto s1 = train::read_sft_data(dir + "/sft_stage1.json", &skipped);
  EXPECT_EQ(skipped, 0);
  ASSERT_EQ(s1.size(), 30u);
  for (size_t i = 0; i < s1.size(); ++i) {
    ASSERT_EQ(s1[i].turns.size(), 1u);
    EXPECT_EQ(s1[i].turns[0].first, "<image>\nDescribe the image.");
    EXPECT_EQ(s1[i].turns[0].second, synth::caption(synth::sample_scene(7, "train", int64_t(i))));
    EXPECT_EQ(s1[i].image, synth::image_rel_path("train", int64_t(i)));
    EXPECT_TRUE(io::file_exists(images + "/" + s1[i].image));
  }
  // SFT stage 2: every image, six families (one turn each) or a caption.
  auto s2 = train::read_sft_data(dir + "/sft_stage2.json", &skipped);
  ASSERT_EQ(s2.size(), 30u);
  int captions = 0;
  for (const auto& ex : s2) {
    EXPECT_TRUE(ex.turns.size() == 1 || ex.turns.size() == 6) << ex.turns.size();
    captions += ex.turns.size() == 1;
    if (ex.turns.size() == 1) { EXPECT_EQ(ex.turns[0].first, "<image>\nDescribe the image."); }
  }
  EXPECT_LT(captions, 15);
  const auto raw2 = io::read_json(dir + "/sft_stage2.json");
  for (const auto& e : raw2)
    for (size_t t = 0; t < e["conversations"].size(); ++t)
      EXPECT_EQ(e["conversations"][t]["value"].get<std::string>().rfind("<image>\n", 0) == 0, t == 0);

  // Pool: human turns only; `seva sample` takes every question, with the ids of pool_labels.jsonl.
  const auto pool_raw = io::read_json(dir + "/pool.json");
  ASSERT_EQ(pool_raw.size(), 24u);
  for (const auto& e : pool_raw)
    for (const auto& t : e["conversations"]) EXPECT_EQ(t["from"], "human");
  method::SampleOptions so;
  so.instructions = dir + "/pool.json";
  method::SampleStats st;
  auto sampled = method::sample_questions(so, &st);
  EXPECT_EQ(st.kept, 24);
  ASSERT_EQ(sampled.size(), 24u);
  std::map<std::string, nlohmann::json> labels;
  for (const auto& row : io::read_jsonl(dir + "/pool_labels.jsonl")) labels[row["id"]] = row;
  ASSERT_EQ(labels.size(), 24u);
  std::map<std::string, int> pool_families;
  for (const auto& q : sampled) {
    ASSERT_TRUE(labels.count(q.id)) << q.id;
    EXPECT_EQ(labels[q.id]["text"], q.text);
    EXPECT_EQ(labels[q.id]["image"], q.image);
    EXPECT_FALSE(labels[q.id]["answer"].get<std::string>().empty());
    ++pool_families[labels[q.id]["family"]];
  }
  // The default pool: the six question families and caption, in rotation (image i gets family
  // i % 7): 24 images give the first three four questions each, the others three.
  EXPECT_EQ(pool_families, (std::map<std::string, int>{{"color", 4}, {"count", 4}, {"position", 4}, {"exist", 3},
                                                        {"text", 3}, {"choice", 3}, {"caption", 3}}));

  // POPE: balanced yes/no within each category.
  auto pope = eval::read_pope_questions(dir + "/pope.jsonl");
  ASSERT_EQ(pope.size(), 60u);
  std::map<std::string, std::pair<int, int>> pope_counts;  // category → (yes, no)
  for (const auto& q : pope) (q.label_yes ? pope_counts[q.category].first : pope_counts[q.category].second)++;
  ASSERT_EQ(pope_counts.size(), 3u);
  for (const char* c : {"random", "popular", "adversarial"}) {
    EXPECT_EQ(pope_counts[c].first, 10) << c;
    EXPECT_EQ(pope_counts[c].second, 10) << c;
  }
  // Hard cases are marked on "yes" rows about a hard object, never on "no" rows.
  int hard_rows = 0;
  for (const auto& row : io::read_jsonl(dir + "/pope.jsonl")) {
    const std::string h = row["hard"];
    if (row["label"] == "no") { EXPECT_EQ(h, ""); }
    hard_rows += !h.empty();
  }
  EXPECT_GT(hard_rows, 0);
  // ... and right: a "yes" names a present object, a "no" an absent one.
  for (const auto& q : pope) {
    const int64_t i = q.question_id.get<int64_t>();
    const auto s = synth::sample_scene(7, "bench", i);
    bool present = false;
    for (const auto& o : s.objects) present = present || q.text == "Is there a " + synth::kind_name(o.kind()) + " in the image?";
    EXPECT_EQ(present, q.label_yes) << q.text;
  }

  // MMBench: 4 options, a letter, the bench image itself in base64; categories in equal shares.
  auto mm = eval::read_mmbench(dir + "/mmbench.tsv");
  ASSERT_EQ(mm.size(), 60u);
  std::map<std::string, int> mm_cats;
  for (const auto& q : mm) {
    ASSERT_EQ(q.options.size(), 4u);
    ASSERT_GE(q.answer, 0);
    EXPECT_TRUE(q.hint.empty());
    ++mm_cats[q.category];
    const std::string png = eval::base64_decode(q.image_base64, "image");
    EXPECT_EQ(png, io::read_file(images + "/" + synth::image_rel_path("bench", std::stoll(q.key))));
    EXPECT_EQ(image::decode_image_bytes(png, "cell").width, synth::kImageSize);
  }
  EXPECT_EQ(mm_cats, (std::map<std::string, int>{{"color", 12}, {"count", 12}, {"exist", 12}, {"position", 12}, {"text", 12}}));

  // VQA: one reference each, five families in equal shares; text answers are the digits.
  auto vqa = eval::read_vqa_questions(dir + "/vqa.jsonl");
  ASSERT_EQ(vqa.size(), 60u);
  std::map<std::string, int> vqa_cats;
  for (const auto& q : vqa) {
    ASSERT_EQ(q.answers.size(), 1u);
    ++vqa_cats[q.category];
    const auto s = synth::sample_scene(7, "bench", q.question_id.get<int64_t>());
    if (q.category == "text") { EXPECT_EQ(q.answers[0], s.digits); }
    if (q.text == "How many objects are there?") { EXPECT_EQ(q.answers[0], std::to_string(s.objects.size())); }
    EXPECT_EQ(eval::vqa_accuracy(q.answers[0], q.answers), 1.0);
  }
  EXPECT_EQ(vqa_cats, (std::map<std::string, int>{{"color", 12}, {"count", 12}, {"exist", 12}, {"position", 12}, {"text", 12}}));

  // The manifest and the corpus.
  const auto w = io::read_json(dir + "/world.json");
  EXPECT_EQ(w["seed"], 7);
  EXPECT_EQ(w["version"], synth::kGeneratorVersion);
  EXPECT_EQ(w["splits"]["train"], 30);
  EXPECT_EQ(w["counts"]["pope"], 60);
  for (const auto& [role, name] : w["files"].items()) EXPECT_TRUE(io::file_exists(dir + "/" + name.get<std::string>())) << role;
  std::set<std::string> vocab = w["vocabulary"];
  for (const char* word : {"red", "yellow", "triangle", "squares", "bottom", "middle", "Describe", "none", "text", "7"})
    EXPECT_TRUE(vocab.count(word)) << word;
  const std::string corpus = io::read_file(dir + "/corpus.txt");
  EXPECT_NE(corpus.find("\nDescribe the image.\n"), std::string::npos);
  EXPECT_NE(corpus.find("\nAnswer with the option's letter from the given choices directly.\n"), std::string::npos);
  EXPECT_EQ(corpus.find("<image>"), std::string::npos);
  EXPECT_TRUE(manifest.contains("seconds"));
}

TEST(SynthWorld, SplitsAreDisjoint) {
  const std::string dir = test::temp_dir("world_splits");
  synth::write_world(small_world(dir));
  std::map<std::string, std::set<std::string>> by_split;  // split → image bytes
  std::set<std::string> names;
  for (const char* split : {"train", "pool", "bench"})
    for (const auto& e : fs::directory_iterator(dir + "/images/" + split)) {
      by_split[split].insert(io::read_file(e.path().string()));
      names.insert(e.path().filename().string());
    }
  EXPECT_EQ(by_split["train"].size(), 30u);
  EXPECT_EQ(by_split["pool"].size(), 24u);
  EXPECT_EQ(by_split["bench"].size(), 60u);
  EXPECT_EQ(names.size(), 30u + 24u + 60u);  // distinct file names
  for (const auto& a : by_split["bench"]) {
    EXPECT_FALSE(by_split["train"].count(a));
    EXPECT_FALSE(by_split["pool"].count(a));
  }
  for (const auto& a : by_split["pool"]) EXPECT_FALSE(by_split["train"].count(a));
  // Files reference only their own split.
  for (const auto& row : io::read_jsonl(dir + "/pope.jsonl")) EXPECT_EQ(row["image"].get<std::string>().rfind("bench/", 0), 0u);
  for (const auto& row : io::read_jsonl(dir + "/pool_labels.jsonl")) EXPECT_EQ(row["image"].get<std::string>().rfind("pool/", 0), 0u);
  for (const auto& e : io::read_json(dir + "/sft_stage2.json")) EXPECT_EQ(e["image"].get<std::string>().rfind("train/", 0), 0u);
}

TEST(SynthWorld, SameSeedSameBytesOtherSeedOtherBytes) {
  const std::string a = test::temp_dir("world_a"), b = test::temp_dir("world_b"), c = test::temp_dir("world_c");
  auto oa = small_world(a), ob = small_world(b), oc = small_world(c, 8);
  ob.threads = 1;  // thread count changes nothing
  synth::write_world(oa);
  synth::write_world(ob);
  synth::write_world(oc);
  const auto fa = test::read_tree(a), fb = test::read_tree(b), fc = test::read_tree(c);
  ASSERT_EQ(fa.size(), 30u + 24u + 60u + 12u + 3u);  // images, the 12 files and chair/'s 3
  EXPECT_TRUE(fa == fb);
  for (const auto& [name, bytes] : fa) {
    ASSERT_TRUE(fc.count(name)) << name;
    if (name != "corpus.txt" && name != "chair/objects.txt") { EXPECT_NE(bytes, fc.at(name)) << name; }
  }
  // Rewriting over a world replaces it (a smaller one leaves no stray images).
  auto smaller = small_world(a);
  smaller.train = 10;
  synth::write_world(smaller);
  EXPECT_EQ(std::distance(fs::directory_iterator(a + "/images/train"), fs::directory_iterator()), 10);
}

TEST(SynthWorld, PoolQuestionsPerImageAndFamilies) {
  const std::string dir = test::temp_dir("world_pool");
  auto o = small_world(dir);
  o.pool_questions_per_image = 2;
  o.pool_families = {"exist", "count", "text"};
  synth::write_world(o);
  method::SampleOptions so;
  so.instructions = dir + "/pool.json";
  so.per_image = 2;
  auto sampled = method::sample_questions(so, nullptr);
  ASSERT_EQ(sampled.size(), 48u);
  std::map<std::string, nlohmann::json> labels;
  for (const auto& row : io::read_jsonl(dir + "/pool_labels.jsonl")) labels[row["id"]] = row;
  std::map<std::string, int> fams;
  for (const auto& q : sampled) {
    ASSERT_TRUE(labels.count(q.id)) << q.id;
    EXPECT_EQ(labels[q.id]["text"], q.text);
    ++fams[labels[q.id]["family"]];
  }
  EXPECT_EQ(fams, (std::map<std::string, int>{{"count", 16}, {"exist", 16}, {"text", 16}}));
  o.pool_families = {"exist"};
  EXPECT_THROW(synth::write_world(o), std::invalid_argument);  // 2 per image from 1 family
}

TEST(SynthWorld, RefusesADirectoryThatIsNotAWorld) {
  const std::string dir = test::temp_dir("world_refuse");
  io::make_dir(dir + "/images/mine");
  io::write_file_atomic(dir + "/images/mine/keep.png", "x");
  EXPECT_THROW(synth::write_world(small_world(dir)), std::runtime_error);
  EXPECT_TRUE(io::file_exists(dir + "/images/mine/keep.png"));
}

TEST(SynthWorld, AWorldKilledHalfWayIsWrittenAgain) {
  const std::string dir = test::temp_dir("world_killed");
  const auto o = small_world(dir);
  synth::write_world(o);
  const std::string manifest = io::read_file(dir + "/world.json");
  EXPECT_FALSE(io::file_exists(dir + "/world.writing"));
  // Killed after its images, before world.json: the marker says the directory is seva's.
  std::remove((dir + "/world.json").c_str());
  io::write_file_atomic(dir + "/world.writing", "seva world is writing this directory\n");
  synth::write_world(o);
  EXPECT_EQ(io::read_file(dir + "/world.json"), manifest);
  EXPECT_FALSE(io::file_exists(dir + "/world.writing"));
}
