// seva sample / generate / pair end to end through the binary on the tiny fixture model:
// answers are noise but deterministic; resuming after a kill gives the uninterrupted file.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <memory>
#include <set>

#include "io/files.h"
#include "io/jsonl.h"
#include "seva_test_paths.h"
#include "test_helpers.h"

namespace {

using seva::test::run_seva;

#define REQUIRE_BINARY() \
  if (std::string(SEVA_BINARY).empty()) GTEST_SKIP() << "built without the CLI (SEVA_PARTS)"

// An images directory with the three fixture images and a corrupt one; questions on each,
// plus one whose image is missing.
struct Setup {
  std::string dir, images, questions;
};

Setup make_setup() {
  Setup s;
  s.dir = seva::test::temp_dir("seva_cli");
  s.images = s.dir + "/images";
  std::filesystem::create_directories(s.images);
  for (const char* f : {"img0_97x61.png", "img1_40x120.jpg", "img2_64x64.png"})
    seva::io::write_file_atomic(s.images + "/" + f, seva::io::read_file(seva::test::fixture_path(std::string("images/") + f)));
  seva::io::write_file_atomic(s.images + "/broken.png", "\x89PNG\r\n\x1a\n not really");
  s.questions = s.dir + "/questions.jsonl";
  std::string q;
  const char* rows[][3] = {{"a_0", "img0_97x61.png", "What is shown?"},
                           {"a_1", "img0_97x61.png", "What colour is it?"},
                           {"b_0", "img1_40x120.jpg", "Read the text."},
                           {"c_0", "broken.png", "Anything?"},
                           {"d_0", "img2_64x64.png", "Describe it."},
                           {"e_0", "missing.jpg", "Where?"},
                           {"f_0", "img2_64x64.png", "How many?"}};
  for (auto& r : rows) q += nlohmann::json{{"id", r[0]}, {"image", r[1]}, {"text", r[2]}}.dump() + "\n";
  seva::io::write_file_atomic(s.questions, q);
  return s;
}

std::string generate_args(const Setup& s, const std::string& out, const std::string& extra = "") {
  return "generate --model " + seva::test::fixture_path("model_A") + " --questions " + s.questions + " --images " +
         s.images + " --aug diffusion:500 --aug moco --aug flip+diffusion:300 --out " + out +
         " --max-new-tokens 6 --seed 11 --threads 2 " + extra;
}

}  // namespace

TEST(SevaCli, GenerateAnswersEveryViewAndSkipsBadImages) {
  REQUIRE_BINARY();
  auto s = make_setup();
  auto r = run_seva(generate_args(s, s.dir + "/out", "--batch-size 2"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("2 skipped"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tokens/s"), std::string::npos) << r.out;
  auto rows = seva::io::read_jsonl(s.dir + "/out/answers.jsonl");
  ASSERT_EQ(rows.size(), 5u * 4u);  // 5 readable questions × (original + 3 views)
  std::set<std::string> views;
  for (const auto& j : rows) {
    for (const char* k : {"id", "image", "question", "view", "answer", "tokens", "logprob", "finish_reason"})
      ASSERT_TRUE(j.contains(k)) << k << " missing in " << j.dump();
    views.insert(j["view"].get<std::string>());
    EXPECT_LE(j["logprob"].get<double>(), 0.0);
    EXPECT_LE(j["tokens"].size(), 6u);
  }
  EXPECT_EQ(views, (std::set<std::string>{"original", "diffusion:500", "moco", "flip+diffusion:300"}));
  EXPECT_EQ(rows[0]["id"], "a_0");
  EXPECT_EQ(rows[0]["view"], "original");
  auto skipped = seva::io::read_jsonl(s.dir + "/out/skipped.jsonl");
  ASSERT_EQ(skipped.size(), 2u);
  EXPECT_EQ(skipped[0]["id"], "c_0");
  EXPECT_NE(skipped[0]["reason"].get<std::string>().find("broken.png"), std::string::npos);
  EXPECT_EQ(skipped[1]["id"], "e_0");

  // Same command again: nothing to do, the files stay as they are.
  auto before = seva::io::read_file(s.dir + "/out/answers.jsonl");
  r = run_seva(generate_args(s, s.dir + "/out", "--batch-size 2"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(seva::io::read_file(s.dir + "/out/answers.jsonl"), before);
  EXPECT_EQ(seva::io::read_jsonl(s.dir + "/out/skipped.jsonl").size(), 2u);

  // Batch size does not change the answers (one row per pass, as the official pipeline).
  r = run_seva(generate_args(s, s.dir + "/seq", "--batch-size 1 --sequential"));
  ASSERT_EQ(r.status, 0) << r.out;
  auto seq = seva::io::read_jsonl(s.dir + "/seq/answers.jsonl");
  ASSERT_EQ(seq.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(seq[i]["tokens"], rows[i]["tokens"]) << i;
    EXPECT_NEAR(seq[i]["logprob"].get<double>(), rows[i]["logprob"].get<double>(), 1e-3) << i;
  }
}

TEST(SevaCli, ResumeAfterAKillGivesTheUninterruptedFile) {
  REQUIRE_BINARY();
  auto s = make_setup();
  auto full = run_seva(generate_args(s, s.dir + "/full", "--batch-size 3"));
  ASSERT_EQ(full.status, 0) << full.out;
  const std::string want = seva::io::read_file(s.dir + "/full/answers.jsonl");
  // A kill mid-write: 6 complete lines and half of the 7th.
  size_t cut = 0;
  for (int i = 0; i < 6; ++i) cut = want.find('\n', cut) + 1;
  size_t next = want.find('\n', cut);
  std::filesystem::create_directories(s.dir + "/part");
  seva::io::write_file_atomic(s.dir + "/part/answers.jsonl", want.substr(0, cut + (next - cut) / 2));
  auto r = run_seva(generate_args(s, s.dir + "/part", "--batch-size 3"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("resuming"), std::string::npos) << r.out;
  EXPECT_EQ(seva::io::read_file(s.dir + "/part/answers.jsonl"), want);
}

TEST(SevaCli, StrictStopsAtABadImageAndBadAugIsRefused) {
  REQUIRE_BINARY();
  auto s = make_setup();
  auto r = run_seva(generate_args(s, s.dir + "/strict", "--strict"));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("broken.png"), std::string::npos) << r.out;
  r = run_seva("generate --model " + seva::test::fixture_path("model_A") + " --questions " + s.questions +
               " --aug diffusion:1000 --out " + s.dir + "/x");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("0..999"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rrcrop[:MIN-MAX]"), std::string::npos) << r.out;
}

TEST(SevaCli, SampleGeneratePairEndToEnd) {
  REQUIRE_BINARY();
  auto s = make_setup();
  // Step 1 from a 665k-style file.
  std::string instr = s.dir + "/mix.json";
  seva::io::write_file_atomic(instr, R"([
    {"id": "x", "image": "img0_97x61.png", "conversations": [{"from": "human", "value": "<image>\nWhat is shown?"},
      {"from": "gpt", "value": "a"}, {"from": "human", "value": "And the colour?"}, {"from": "gpt", "value": "b"}]},
    {"id": "y", "image": "img1_40x120.jpg", "conversations": [{"from": "human", "value": "Read it.\n<image>"}, {"from": "gpt", "value": "c"}]},
    {"id": "z", "image": "other/img2.png", "conversations": [{"from": "human", "value": "<image>\nHm?"}, {"from": "gpt", "value": "d"}]}])");
  auto r = run_seva("sample --instructions " + instr + " --source img --per-image 2 --count 5 --seed 1 --out " + s.dir +
                    "/q.jsonl");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("read 3 entries"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("wrote 3 image-question pairs"), std::string::npos) << r.out;
  // Step 2.
  r = run_seva("generate --model " + seva::test::fixture_path("model_A") + " --questions " + s.dir + "/q.jsonl --images " +
               s.images + " --aug diffusion:800 --aug rrcrop --out " + s.dir + "/gen --max-new-tokens 8 --batch-size 4");
  ASSERT_EQ(r.status, 0) << r.out;
  auto answers = seva::io::read_jsonl(s.dir + "/gen/answers.jsonl");
  ASSERT_EQ(answers.size(), 9u);
  // Step 3, both formats.
  r = run_seva("pair --answers " + s.dir + "/gen/answers.jsonl --out " + s.dir + "/pairs.jsonl");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("diffusion:800: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rrcrop: "), std::string::npos) << r.out;
  auto prs = seva::io::read_jsonl(s.dir + "/pairs.jsonl");
  std::map<std::string, std::string> original;
  for (const auto& a : answers)
    if (a["view"] == "original") original[a["id"]] = a["answer"];
  for (const auto& p : prs) {
    EXPECT_EQ(p["rejected"].size(), p["augs"].size());
    EXPECT_GE(p["rejected"].size(), 1u);
    for (const auto& rej : p["rejected"]) EXPECT_NE(rej, p["chosen"]);
    EXPECT_TRUE(p.contains("chosen_ref_logp"));
  }
  r = run_seva("pair --answers " + s.dir + "/gen/answers.jsonl --out " + s.dir + "/pairs.json --format official --view diffusion:800");
  ASSERT_EQ(r.status, 0) << r.out;
  auto off = seva::io::read_json(s.dir + "/pairs.json");
  ASSERT_TRUE(off.is_array());
  for (const auto& p : off) {
    EXPECT_EQ(p.size(), 4u);
    EXPECT_NE(p["chosen"], p["reject"]);
  }
}
