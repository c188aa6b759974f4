// POPE: the official word rule (its edge cases included), metrics against hand counts, files.
#include "eval/answers.h"
#include "eval/pope.h"
#include "io/files.h"
#include "test_helpers.h"

#include <fstream>

using seva::eval::pope_answer_is_yes;

TEST(EvalPope, WordRuleAsTheOfficialScript) {
  EXPECT_TRUE(pope_answer_is_yes("Yes"));
  EXPECT_TRUE(pope_answer_is_yes("Yes, there is a dog in the image."));
  EXPECT_FALSE(pope_answer_is_yes("No"));
  EXPECT_FALSE(pope_answer_is_yes("no."));
  EXPECT_FALSE(pope_answer_is_yes("No, there is not."));
  // "Not" is none of No / not / no: the official rule says yes.
  EXPECT_TRUE(pope_answer_is_yes("Not at all."));
  // The first sentence is "Yes, but not..." up to the first '.': "not" makes it no.
  EXPECT_FALSE(pope_answer_is_yes("Yes, but not clearly visible."));
  EXPECT_FALSE(pope_answer_is_yes("Yes, but not..."));
  // Only the first sentence counts.
  EXPECT_TRUE(pope_answer_is_yes("Yes. There is no cat."));
  EXPECT_FALSE(pope_answer_is_yes("There is no cat. Yes."));
  // Commas are dropped before splitting: "no," becomes "no".
  EXPECT_FALSE(pope_answer_is_yes("no, it is a dog"));
  // Case-sensitive and whole words only; split on single spaces, not newlines.
  EXPECT_TRUE(pope_answer_is_yes("NO"));
  EXPECT_TRUE(pope_answer_is_yes("Nope"));
  EXPECT_TRUE(pope_answer_is_yes("nothing"));
  EXPECT_TRUE(pope_answer_is_yes("Yes\nno"));
  EXPECT_FALSE(pope_answer_is_yes("I do  not see one"));
  EXPECT_TRUE(pope_answer_is_yes(""));
}

TEST(EvalPope, MetricsFromHandCounts) {
  seva::eval::PopeCounts c;
  for (int i = 0; i < 3; ++i) c.add(true, true);   // tp
  c.add(false, true);                              // fp
  for (int i = 0; i < 4; ++i) c.add(false, false); // tn
  for (int i = 0; i < 2; ++i) c.add(true, false);  // fn
  EXPECT_EQ(c.tp, 3);
  EXPECT_EQ(c.fp, 1);
  EXPECT_EQ(c.tn, 4);
  EXPECT_EQ(c.fn, 2);
  auto m = seva::eval::pope_metrics(c);
  EXPECT_DOUBLE_EQ(m.accuracy, 0.7);
  EXPECT_DOUBLE_EQ(m.precision, 0.75);
  EXPECT_DOUBLE_EQ(m.recall, 0.6);
  EXPECT_DOUBLE_EQ(m.f1, 2 * 0.75 * 0.6 / 1.35);
  EXPECT_DOUBLE_EQ(m.yes_ratio, 0.4);
}

TEST(EvalPope, UndefinedRatiosAreZero) {
  seva::eval::PopeCounts c;
  c.add(false, false);  // one true negative: no positive predicted, none labelled
  auto m = seva::eval::pope_metrics(c);
  EXPECT_DOUBLE_EQ(m.accuracy, 1.0);
  EXPECT_DOUBLE_EQ(m.precision, 0.0);
  EXPECT_DOUBLE_EQ(m.recall, 0.0);
  EXPECT_DOUBLE_EQ(m.f1, 0.0);
  EXPECT_DOUBLE_EQ(m.yes_ratio, 0.0);
  auto empty = seva::eval::pope_metrics({});
  EXPECT_DOUBLE_EQ(empty.accuracy, 0.0);
}

namespace {

std::string write(const std::string& dir, const std::string& name, const std::string& text) {
  std::string path = dir + "/" + name;
  seva::io::write_file_atomic(path, text);
  return path;
}

const char* kPopeFile =
    R"({"question_id": 1, "image": "a.jpg", "text": "Is there a dog in the image?", "label": "yes", "category": "random"}
{"question_id": 2, "image": "a.jpg", "text": "Is there a cat in the image?", "label": "no", "category": "random"}
{"question_id": 3, "image": "b.jpg", "text": "Is there a car in the image?", "label": "yes", "category": "random"}
{"question_id": 4, "image": "b.jpg", "text": "Is there a bus in the image?", "label": "no", "category": "adversarial"}
{"question_id": 5, "image": "c.jpg", "text": "Is there a cup in the image?", "label": "yes", "category": "adversarial"}
{"question_id": 6, "image": "gone.jpg", "text": "Is there a fox in the image?", "label": "no", "category": "adversarial"}
{"question_id": 7, "image": "c.jpg", "text": "Is there a pen in the image?", "label": "no", "category": "adversarial"}
)";

}  // namespace

TEST(EvalPope, ScoresPerCategoryAndOverall) {
  std::string dir = seva::test::temp_dir("pope");
  auto questions = seva::eval::read_pope_questions(write(dir, "q.jsonl", kPopeFile));
  ASSERT_EQ(questions.size(), 7u);
  EXPECT_EQ(questions[3].category, "adversarial");
  EXPECT_FALSE(questions[3].label_yes);
  // Answers in any order, string and integer ids alike; 7 has none, 6 has a missing image.
  auto answers = seva::eval::read_answers(write(dir, "a.jsonl",
                                                R"({"question_id": 5, "text": "Not at all."}
{"question_id": "1", "text": "Yes, there is."}
{"question_id": 2, "text": "Yes, but not a cat."}
{"question_id": 3, "text": "No"}
{"question_id": 4, "text": "Yes"}
)"));
  auto m = seva::eval::score_pope(questions, answers, {"6"});
  // random: q1 tp, q2 tn ("not"), q3 fn. adversarial: q4 fp, q5 tp ("Not" is yes), q6 missing, q7 unanswered.
  const auto& r = m["random"];
  EXPECT_EQ(r["tp"], 1);
  EXPECT_EQ(r["tn"], 1);
  EXPECT_EQ(r["fn"], 1);
  EXPECT_EQ(r["fp"], 0);
  EXPECT_DOUBLE_EQ(r["accuracy"].get<double>(), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(r["precision"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(r["recall"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(r["f1"].get<double>(), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(r["yes_ratio"].get<double>(), 1.0 / 3.0);
  const auto& a = m["adversarial"];
  EXPECT_EQ(a["tp"], 1);
  EXPECT_EQ(a["fp"], 1);
  EXPECT_EQ(a["questions"], 4);
  EXPECT_EQ(a["scored"], 2);
  EXPECT_EQ(a["missing_images"], 1);
  EXPECT_EQ(a["unanswered"], 1);
  EXPECT_DOUBLE_EQ(a["accuracy"].get<double>(), 0.5);
  const auto& o = m["overall"];
  EXPECT_EQ(o["tp"], 2);
  EXPECT_EQ(o["fp"], 1);
  EXPECT_EQ(o["tn"], 1);
  EXPECT_EQ(o["fn"], 1);
  EXPECT_EQ(o["questions"], 7);
  EXPECT_EQ(o["scored"], 5);
  EXPECT_DOUBLE_EQ(o["accuracy"].get<double>(), 0.6);
  EXPECT_DOUBLE_EQ(o["precision"].get<double>(), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(o["recall"].get<double>(), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(o["yes_ratio"].get<double>(), 0.6);
  // Categories sorted, overall last.
  std::vector<std::string> keys;
  for (const auto& [k, v] : m.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"adversarial", "random", "overall"}));
}

TEST(EvalPope, BadRowsNameFileAndLine) {
  std::string dir = seva::test::temp_dir("pope");
  auto bad_label = write(dir, "bad.jsonl",
                         "{\"question_id\": 1, \"image\": \"a.jpg\", \"text\": \"q\", \"label\": \"yes\"}\n"
                         "{\"question_id\": 2, \"image\": \"a.jpg\", \"text\": \"q\", \"label\": \"maybe\"}\n");
  try {
    seva::eval::read_pope_questions(bad_label);
    FAIL() << "no error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("bad.jsonl:2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("maybe"), std::string::npos) << e.what();
  }
  auto no_image = write(dir, "noimg.jsonl", "{\"question_id\": 1, \"text\": \"q\", \"label\": \"yes\"}\n");
  EXPECT_THROW(seva::eval::read_pope_questions(no_image), std::runtime_error);
  auto dup = write(dir, "dup.jsonl",
                   "{\"question_id\": 1, \"image\": \"a\", \"text\": \"q\", \"label\": \"no\"}\n"
                   "{\"question_id\": \"1\", \"image\": \"a\", \"text\": \"q\", \"label\": \"no\"}\n");
  EXPECT_THROW(seva::eval::read_pope_questions(dup), std::runtime_error);
  auto bad_answer = write(dir, "ans.jsonl", "{\"question_id\": 1, \"text\": \"Yes\"}\n{\"question_id\": 2}\n");
  try {
    seva::eval::read_answers(bad_answer);
    FAIL() << "no error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("ans.jsonl:2"), std::string::npos) << e.what();
  }
}

// Found by fuzz/fuzz_jsonl: a line of a million nested '[' parsed, then an error message dumped
// the value recursively and overflowed the stack. JSONL lines are depth-bounded when parsed.
TEST(PopeBadInput, DeeplyNestedLineIsRefusedNotOverflowed) {
  const std::string dir = seva::test::temp_dir("pope_deep");
  const std::string deep = std::string(1000000, '[') + std::string(1000000, ']');
  const std::string path = dir + "/q.jsonl";
  std::ofstream(path) << R"({"question_id": )" << deep
                      << R"(, "image": "a.jpg", "text": "q", "label": "yes"})" << "\n";
  try {
    seva::eval::read_pope_questions(path);
    ADD_FAILURE() << "accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":1: malformed JSON: JSON nested deeper than 256"), std::string::npos)
        << e.what();
  }
}
