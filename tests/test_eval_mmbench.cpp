// MMBench: the TSV as pandas writes it, LLaVA-1.5's prompt, rotations, circular scoring, and the
// extraction of option letters from free-form answers.
#include "eval/base64.h"
#include "eval/choice.h"
#include "eval/mmbench.h"
#include "eval/tsv.h"
#include "test_helpers.h"

using seva::eval::extract_choice;

namespace {

// 60 bytes 0..59, base64: longer than 64 characters, so it is an image and not a row reference.
const std::string kImage = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7";

std::string tsv() {
  std::string t = "index\tquestion\thint\tA\tB\tC\tD\tanswer\tcategory\tl2-category\timage\tsplit\n";
  t += "0\tWhat colour is the car?\tnan\tred\tblue\tgreen\t\tB\tattribute\tperception\t" + kImage + "\tdev\n";
  // A hint with a newline, a tab and quotes: pandas quotes the cell and doubles the quotes.
  t += "1\tWhich animal?\t\"Line one\nline\ttwo \"\"quoted\"\"\"\tcat\tdog\t\t\tA\tidentity\tperception\t0\tdev\n";
  // D without C: LLaVA's get_options stops at the first empty one.
  t += "2\tHow many?\t\t1\t2\t\t3\tA\tcounting\treasoning\t" + kImage + "\tdev\n";
  // No answer key (a test-split row).
  t += "3\tWhere?\t\tleft\tright\t\t\t\tattribute\tperception\t" + kImage + "\ttest\r\n";
  return t;
}

}  // namespace

TEST(EvalMmbench, ParsesPandasTsv) {
  auto qs = seva::eval::parse_mmbench(tsv(), "mini.tsv");
  ASSERT_EQ(qs.size(), 4u);
  EXPECT_EQ(qs[0].question_id, 0);
  EXPECT_EQ(qs[0].hint, "");  // "nan" is absent
  EXPECT_EQ(qs[0].options, (std::vector<std::string>{"red", "blue", "green"}));
  EXPECT_EQ(qs[0].answer, 1);
  EXPECT_EQ(qs[0].category, "attribute");
  EXPECT_EQ(qs[0].l2_category, "perception");
  EXPECT_EQ(qs[1].hint, "Line one\nline\ttwo \"quoted\"");
  EXPECT_EQ(qs[1].options, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(qs[1].image_base64, kImage);  // "0" names row 0's image
  EXPECT_EQ(qs[1].line, 3u);
  EXPECT_EQ(qs[2].options, (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(qs[2].line, 5u);  // the quoted newline counted
  EXPECT_EQ(qs[3].answer, -1);
  EXPECT_EQ(qs[3].options, (std::vector<std::string>{"left", "right"}));
  std::string bytes = seva::eval::base64_decode(qs[0].image_base64, "image");
  ASSERT_EQ(bytes.size(), 60u);
  EXPECT_EQ(static_cast<unsigned char>(bytes[59]), 59);
}

TEST(EvalMmbench, BadCellsNameTheLine) {
  std::string t = "index\tquestion\tA\tB\tanswer\timage\n0\tq\tx\ty\tC\t" + kImage + "\n";
  try {
    seva::eval::parse_mmbench(t, "bad.tsv");
    FAIL() << "no error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("bad.tsv:2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(seva::eval::parse_tsv("a\tb\n1\t2\t3\n", "x.tsv"), std::runtime_error);
  EXPECT_THROW(seva::eval::parse_tsv("a\tb\n\"1\t2\n", "x.tsv"), std::runtime_error);
  EXPECT_THROW(seva::eval::parse_mmbench("index\tquestion\tA\tB\n0\tq\tx\ty\n", "noimg.tsv"), std::runtime_error);
}

TEST(EvalMmbench, PromptAsLlava15) {
  auto qs = seva::eval::parse_mmbench(tsv(), "mini.tsv");
  EXPECT_EQ(seva::eval::mmbench_prompt(qs[0], 0),
            "<image>\nWhat colour is the car?\nA. red\nB. blue\nC. green\n"
            "Answer with the option's letter from the given choices directly.");
  EXPECT_EQ(seva::eval::mmbench_prompt(qs[1], 1),
            "<image>\nLine one\nline\ttwo \"quoted\"\nWhich animal?\nA. dog\nB. cat\n"
            "Answer with the option's letter from the given choices directly.");
}

TEST(EvalMmbench, RotationsMoveTheCorrectLetter) {
  auto q = seva::eval::parse_mmbench(tsv(), "mini.tsv")[0];  // red, blue, green; answer blue
  EXPECT_EQ(seva::eval::mmbench_rounds(q, true), 3);
  EXPECT_EQ(seva::eval::mmbench_rounds(q, false), 1);
  EXPECT_EQ(seva::eval::mmbench_round_options(q, 1), (std::vector<std::string>{"blue", "green", "red"}));
  EXPECT_EQ(seva::eval::mmbench_round_options(q, 2), (std::vector<std::string>{"green", "red", "blue"}));
  EXPECT_EQ(seva::eval::mmbench_round_answer(q, 0), 1);  // B
  EXPECT_EQ(seva::eval::mmbench_round_answer(q, 1), 0);  // A
  EXPECT_EQ(seva::eval::mmbench_round_answer(q, 2), 2);  // C
}

TEST(EvalMmbench, CircularNeedsEveryRound) {
  auto qs = seva::eval::parse_mmbench(tsv(), "mini.tsv");
  std::map<std::string, std::string> answers = {
      {"0", "B"}, {"0#1", "A."}, {"0#2", "The answer is A"},  // round 2 wrong (C is right)
      {"1", "(A)"}, {"1#1", "cat"},                          // both right; round 1 by the option's text
      {"3", "A"},                                           // no answer key: unlabelled
      // 2: unanswered
  };
  auto m = seva::eval::score_mmbench(qs, answers);
  const auto& o = m["overall"];
  EXPECT_EQ(o["questions"], 4);
  EXPECT_EQ(o["scored"], 2);
  EXPECT_EQ(o["unanswered"], 1);
  EXPECT_EQ(o["unlabelled"], 1);
  EXPECT_DOUBLE_EQ(o["accuracy"].get<double>(), 1.0);
  EXPECT_EQ(o["circular_scored"], 2);
  EXPECT_DOUBLE_EQ(o["circular_accuracy"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(m["attribute"]["circular_accuracy"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(m["identity"]["circular_accuracy"].get<double>(), 1.0);
  // A question missing a round is not in the circular count; its round 0 still is in accuracy.
  answers.erase("1#1");
  answers["0#2"] = "Z";
  auto m2 = seva::eval::score_mmbench(qs, answers, {"3"});
  EXPECT_EQ(m2["overall"]["circular_scored"], 1);
  EXPECT_EQ(m2["overall"]["unparsed"], 1);
  EXPECT_EQ(m2["overall"]["missing_images"], 1);
  EXPECT_EQ(m2["overall"]["unlabelled"], 0);
  EXPECT_DOUBLE_EQ(m2["overall"]["accuracy"].get<double>(), 1.0);
}

TEST(EvalMmbench, ExtractsOptionLetters) {
  const std::vector<std::string> opts = {"red", "blue", "green", "red car"};
  EXPECT_EQ(extract_choice("B", opts), 1);
  EXPECT_EQ(extract_choice("B.", opts), 1);
  EXPECT_EQ(extract_choice("  B\n", opts), 1);
  EXPECT_EQ(extract_choice("(C)", opts), 2);
  EXPECT_EQ(extract_choice("[D]", opts), 3);
  EXPECT_EQ(extract_choice("C) green", opts), 2);
  EXPECT_EQ(extract_choice("D: red car", opts), 3);
  EXPECT_EQ(extract_choice("b", opts), 1);
  EXPECT_EQ(extract_choice("The answer is C", opts), 2);
  EXPECT_EQ(extract_choice("The answer is C.", opts), 2);
  EXPECT_EQ(extract_choice("Answer: B", opts), 1);
  EXPECT_EQ(extract_choice("The answer is A", opts), 0);
  EXPECT_EQ(extract_choice("blue", opts), 1);
  EXPECT_EQ(extract_choice("It is green.", opts), 2);
  EXPECT_EQ(extract_choice("Red", opts), 0);
  EXPECT_EQ(extract_choice("the red car", opts), 3);  // "red" sits inside "red car"
  EXPECT_EQ(extract_choice("A red car", opts), 3);    // "A" is the article here
  EXPECT_EQ(extract_choice("A or B", opts), -1);
  EXPECT_EQ(extract_choice("I am not sure", opts), -1);
  EXPECT_EQ(extract_choice("E", opts), -1);
  EXPECT_EQ(extract_choice("", opts), -1);
  EXPECT_EQ(extract_choice("C", {"cat", "dog"}), -1);  // only A and B exist
}

TEST(EvalMmbench, Base64) {
  EXPECT_EQ(seva::eval::base64_decode("aGVsbG8=", "x"), "hello");
  EXPECT_EQ(seva::eval::base64_decode("aGVsbG8", "x"), "hello");
  EXPECT_EQ(seva::eval::base64_decode("aGVs\nbG8h", "x"), "hello!");
  EXPECT_THROW(seva::eval::base64_decode("aGV*", "x"), std::runtime_error);
  EXPECT_THROW(seva::eval::base64_decode("aGVsb", "x"), std::runtime_error);
}
