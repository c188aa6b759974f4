// VQA: EvalAI normalisation (expected values from the official processor's behaviour) and the
// leave-one-out soft accuracy.
#include "eval/vqa.h"
#include "eval/vqa_normalize.h"
#include "io/files.h"
#include "test_helpers.h"

using seva::eval::vqa_accuracy;
using seva::eval::vqa_normalize;

TEST(EvalVqa, NormalisationAsEvalAI) {
  // Expected outputs produced by m4c's EvalAIAnswerProcessor on the same inputs.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"Two", "2"},
      {"The Cat.", "cat"},
      {"Dont", "don't"},
      {"yes.", "yes"},
      {"3.5", "3.5"},
      {"hello, world?", "hello world"},
      {"coca-cola", "coca cola"},      // '-' with no space next to it becomes a space
      {"coca - cola", "coca cola"},    // next to a space it is removed
      {"it's", "it 's"},
      {"A man's hat", "man 's hat"},
      {"ten dollars", "10 dollars"},
      {"None", "0"},
      {"e.g.", "eg"},
      {"(left)", "left"},
      {"left (maybe)", "left maybe"},
      {"1,000", "1000"},
      {"x/y", "x y"},
      {"What's that?", "what 's that"},
      {"Thats\tit\nok", "that's it ok"},
      {"3.14.", "3.14"},
      {"a.b", "ab"},
      {"$5.00", "$5.00"},
      {"U.S.A.", "usa"},
      {"wow !", "wow"},
      {"ok: fine", "ok: fine"},  // ':' is not in the official list
      {"#1", "#1"},
      {"left;right", "left right"},
      {"don't", "don't"},
      {"An apple", "apple"},
      {"  The  ", ""},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(vqa_normalize(in), want) << "input: " << in;
  // The period strip is re.sub(..., re.UNICODE): count = 32, so 8 of 40 dots survive.
  EXPECT_EQ(vqa_normalize("a" + std::string(40, '.') + "b"), "a" + std::string(8, '.') + "b");
}

TEST(EvalVqa, LeaveOneOutAccuracyWithTenReferences) {
  auto refs = [](int matches) {
    std::vector<std::string> r(10, "blue");
    for (int i = 0; i < matches; ++i) r[i] = "Red.";
    return r;
  };
  EXPECT_DOUBLE_EQ(vqa_accuracy("red", refs(0)), 0.0);
  EXPECT_NEAR(vqa_accuracy("red", refs(1)), 0.3, 1e-12);  // (1·0 + 9·1/3) / 10
  EXPECT_NEAR(vqa_accuracy("red", refs(2)), 0.6, 1e-12);  // (2·1/3 + 8·2/3) / 10
  EXPECT_NEAR(vqa_accuracy("red", refs(3)), 0.9, 1e-12);  // (3·2/3 + 7·1) / 10
  EXPECT_DOUBLE_EQ(vqa_accuracy("red", refs(4)), 1.0);
  EXPECT_DOUBLE_EQ(vqa_accuracy("The red", refs(10)), 1.0);
}

TEST(EvalVqa, OneReferenceIsExactMatchAfterNormalisation) {
  EXPECT_DOUBLE_EQ(vqa_accuracy("The Cat.", {"cat"}), 1.0);
  EXPECT_DOUBLE_EQ(vqa_accuracy("two", {"2"}), 1.0);
  EXPECT_DOUBLE_EQ(vqa_accuracy("cats", {"cat"}), 0.0);
}

TEST(EvalVqa, ScoresFileRowsPerCategory) {
  std::string dir = seva::test::temp_dir("vqa");
  std::string path = dir + "/q.jsonl";
  seva::io::write_file_atomic(path,
                              R"({"question_id": 10, "image": "a.jpg", "text": "Colour?", "answers": ["red","red","red","red","blue","blue","blue","blue","blue","blue"], "category": "colour"}
{"question_id": 11, "image": "b.jpg", "text": "How many?", "answers": [{"answer": "2"}], "category": "count"}
{"question_id": 12, "image": "c.jpg", "text": "How many?", "answers": ["3"], "category": "count"}
{"question_id": 13, "image": "d.jpg", "text": "Brand?", "answers": ["nike"], "category": "count"}
)");
  auto qs = seva::eval::read_vqa_questions(path);
  ASSERT_EQ(qs.size(), 4u);
  EXPECT_EQ(qs[1].answers, std::vector<std::string>{"2"});
  std::map<std::string, std::string> answers = {{"10", "Blue"}, {"11", "Two."}, {"12", "4"}};
  auto m = seva::eval::score_vqa(qs, answers, {"13"});
  EXPECT_DOUBLE_EQ(m["colour"]["accuracy"].get<double>(), 1.0);  // 6 matches
  EXPECT_DOUBLE_EQ(m["count"]["accuracy"].get<double>(), 0.5);
  EXPECT_EQ(m["count"]["missing_images"], 1);
  EXPECT_EQ(m["overall"]["scored"], 3);
  EXPECT_DOUBLE_EQ(m["overall"]["accuracy"].get<double>(), 2.0 / 3.0);
}

TEST(EvalVqa, RowWithoutAnswersNamesLine) {
  std::string dir = seva::test::temp_dir("vqa");
  std::string path = dir + "/q.jsonl";
  seva::io::write_file_atomic(path, "{\"question_id\": 1, \"image\": \"a\", \"text\": \"t\", \"answers\": [\"x\"]}\n"
                                    "{\"question_id\": 2, \"image\": \"a\", \"text\": \"t\"}\n");
  try {
    seva::eval::read_vqa_questions(path);
    FAIL() << "no error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("q.jsonl:2"), std::string::npos) << e.what();
  }
}
