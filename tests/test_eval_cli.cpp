// `seva eval` and `seva compare` end to end on the tiny fixture model (its answers are noise: the
// checks are counts, files, resumption, and metrics that agree with a re-scoring of the answers).
#include "io/files.h"
#include "io/jsonl.h"
#include "seva_test_paths.h"
#include "test_helpers.h"

#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <memory>

namespace {

using seva::test::run_seva;

std::string base64(const std::string& bytes) {
  static const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += abc[(v >> s) & 63];
  }
  if (i < bytes.size()) {
    uint32_t v = uint8_t(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= uint8_t(bytes[i + 1]) << 8;
    out += abc[(v >> 18) & 63];
    out += abc[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? abc[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string model_flags() {
  return "--model " + seva::test::fixture_path("model_A") + " --max-new-tokens 6 --batch-size 2 --threads 2";
}

const char* kPope =
    R"({"question_id": 1, "image": "img0_97x61.png", "text": "Is there a dog in the image?", "label": "yes", "category": "random"}
{"question_id": 2, "image": "img1_40x120.jpg", "text": "Is there a cat in the image?", "label": "no", "category": "adversarial"}
{"question_id": 3, "image": "img2_64x64.png", "text": "Is there a car in the image?", "label": "yes", "category": "random"}
)";

}  // namespace

TEST(EvalCli, PopeAnswersResumesAndRescores) {
  if (std::string(SEVA_BINARY).empty()) GTEST_SKIP() << "built without the CLI";
  std::string dir = seva::test::temp_dir("eval_cli");
  std::string pope = dir + "/pope.jsonl", out = dir + "/run";
  seva::io::write_file_atomic(pope, kPope);
  std::string cmd = "eval " + model_flags() + " --pope " + pope + " --images " + seva::test::fixture_path("images") +
                    " --out " + out;
  auto r = run_seva(cmd);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("## pope"), std::string::npos) << r.out;

  auto rows = seva::io::read_jsonl(out + "/pope/answers.jsonl");
  ASSERT_EQ(rows.size(), 3u);
  std::set<int> ids;
  for (const auto& row : rows) {
    ids.insert(row["question_id"].get<int>());
    EXPECT_TRUE(row["text"].is_string());
    EXPECT_NE(row["prompt"].get<std::string>().find("in the image?"), std::string::npos);
  }
  EXPECT_EQ(ids, (std::set<int>{1, 2, 3}));
  auto metrics = seva::io::read_json(out + "/metrics.json");
  const auto& o = metrics["pope"]["overall"];
  EXPECT_EQ(o["questions"], 3);
  EXPECT_EQ(o["scored"], 3);
  EXPECT_EQ(o["missing_images"], 0);
  EXPECT_EQ(o["tp"].get<int>() + o["fp"].get<int>() + o["tn"].get<int>() + o["fn"].get<int>(), 3);
  EXPECT_EQ(metrics["pope"]["random"]["questions"], 2);
  EXPECT_TRUE(seva::io::file_exists(out + "/report.md"));
  EXPECT_TRUE(seva::io::file_exists(out + "/config.json"));

  // Re-scoring the answers file without a model gives the same metrics.
  auto s = run_seva("eval --pope " + pope + " --answers " + out + "/pope/answers.jsonl --out " + dir + "/rescored");
  ASSERT_EQ(s.status, 0) << s.out;
  EXPECT_EQ(seva::io::read_json(dir + "/rescored/metrics.json"), metrics);

  // A second run finds every answer done and generates nothing.
  auto again = run_seva(cmd);
  ASSERT_EQ(again.status, 0) << again.out;
  EXPECT_NE(again.out.find("0 to generate"), std::string::npos) << again.out;
  EXPECT_EQ(seva::io::read_jsonl(out + "/pope/answers.jsonl").size(), 3u);

  // Resuming with other settings is refused rather than mixing answers.
  auto other = run_seva(cmd + " --suffix 'Answer yes or no.'");
  EXPECT_NE(other.status, 0);
  EXPECT_NE(other.out.find("other settings"), std::string::npos) << other.out;

  // compare: the run against its own re-scoring, all deltas zero.
  auto c = run_seva("compare " + out + " " + dir + "/rescored --out " + dir + "/cmp");
  ASSERT_EQ(c.status, 0) << c.out;
  EXPECT_NE(c.out.find("| run | rescored | Δ rescored |"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("+0.00"), std::string::npos) << c.out;
  EXPECT_EQ(seva::io::read_file(dir + "/cmp/comparison.svg").rfind("<svg", 0), 0u);
}

TEST(EvalCli, MissingImageIsCountedNotScored) {
  if (std::string(SEVA_BINARY).empty()) GTEST_SKIP() << "built without the CLI";
  std::string dir = seva::test::temp_dir("eval_cli");
  std::string pope = dir + "/pope.jsonl", out = dir + "/run";
  seva::io::write_file_atomic(
      pope, std::string(kPope) +
                R"({"question_id": 4, "image": "not_there.jpg", "text": "Is there a fox?", "label": "no", "category": "random"})" +
                "\n");
  auto r = run_seva("eval " + model_flags() + " --pope " + pope + " --images " + seva::test::fixture_path("images") +
                    " --out " + out);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("not_there.jpg"), std::string::npos) << r.out;
  auto metrics = seva::io::read_json(out + "/metrics.json");
  EXPECT_EQ(metrics["pope"]["overall"]["questions"], 4);
  EXPECT_EQ(metrics["pope"]["overall"]["scored"], 3);
  EXPECT_EQ(metrics["pope"]["overall"]["missing_images"], 1);
  EXPECT_EQ(metrics["pope"]["random"]["missing_images"], 1);
  EXPECT_EQ(seva::io::read_jsonl(out + "/pope/answers.jsonl").size(), 3u);
  auto skipped = seva::io::read_jsonl(out + "/pope/skipped.jsonl");
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0]["question_id"], 4);
}

TEST(EvalCli, MmbenchCircularRoundsFromBase64Images) {
  if (std::string(SEVA_BINARY).empty()) GTEST_SKIP() << "built without the CLI";
  std::string dir = seva::test::temp_dir("eval_cli");
  std::string img = base64(seva::io::read_file(seva::test::fixture_path("images/img2_64x64.png")));
  std::string tsv = "index\tquestion\thint\tA\tB\tC\tD\tanswer\tcategory\tl2-category\timage\n";
  tsv += "10\tWhat is shown?\tnan\ta square\ta circle\ta line\t\tA\tshape\tperception\t" + img + "\n";
  tsv += "11\tWhich colour?\tLook closely.\tred\tblue\t\t\tB\tcolour\tperception\t10\n";  // image of row 10
  seva::io::write_file_atomic(dir + "/mmb.tsv", tsv);
  auto r = run_seva("eval " + model_flags() + " --mmbench " + dir + "/mmb.tsv --out " + dir + "/run");
  ASSERT_EQ(r.status, 0) << r.out;
  auto rows = seva::io::read_jsonl(dir + "/run/mmbench/answers.jsonl");
  ASSERT_EQ(rows.size(), 5u);  // 3 rounds + 2 rounds
  std::set<std::pair<int, int>> keys;
  for (const auto& row : rows) keys.insert({row["question_id"].get<int>(), row["round_id"].get<int>()});
  EXPECT_EQ(keys, (std::set<std::pair<int, int>>{{10, 0}, {10, 1}, {10, 2}, {11, 0}, {11, 1}}));
  auto metrics = seva::io::read_json(dir + "/run/metrics.json");
  EXPECT_EQ(metrics["mmbench"]["overall"]["scored"], 2);
  EXPECT_EQ(metrics["mmbench"]["overall"]["circular_scored"], 2);
  auto s = run_seva("eval --mmbench " + dir + "/mmb.tsv --answers " + dir + "/run/mmbench/answers.jsonl");
  ASSERT_EQ(s.status, 0) << s.out;
}

TEST(EvalCli, MalformedAnswersNameFileAndLine) {
  if (std::string(SEVA_BINARY).empty()) GTEST_SKIP() << "built without the CLI";
  std::string dir = seva::test::temp_dir("eval_cli");
  seva::io::write_file_atomic(dir + "/pope.jsonl", kPope);
  seva::io::write_file_atomic(dir + "/answers.jsonl", "{\"question_id\": 1, \"text\": \"Yes\"}\n{\"question_id\": 2, \"text\": 5}\n");
  auto r = run_seva("eval --pope " + dir + "/pope.jsonl --answers " + dir + "/answers.jsonl");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("answers.jsonl:2"), std::string::npos) << r.out;
  auto none = run_seva("eval --answers " + dir + "/answers.jsonl");
  EXPECT_NE(none.status, 0);
}
