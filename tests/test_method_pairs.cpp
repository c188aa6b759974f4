// seva pair: the official filter (answers equal after removing </s> and newlines are dropped),
// multi-negative pairs, per-view survival, the official format, downsampling.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <map>

#include "io/files.h"
#include "io/jsonl.h"
#include "method/pairs.h"
#include "test_helpers.h"

using namespace seva;
using method::AnswerRow;

namespace {

std::vector<AnswerRow> rows() {
  return {
      {"a", "i/a.jpg", "Q a", "original", "A cat.</s>", -1.5},
      {"a", "i/a.jpg", "Q a", "diffusion:500", "A cat.", -2.0},  // equal after clean-up
      {"a", "i/a.jpg", "Q a", "moco", "A dog.", -3.0},
      {"b", "i/b.jpg", "Q b", "original", "Two\nbirds", -4.0},
      {"b", "i/b.jpg", "Q b", "diffusion:500", "Twobirds", -1.0},  // equal: newlines removed
      {"b", "i/b.jpg", "Q b", "moco", "Twobirds", -1.0},
      {"c", "i/c.jpg", "Q c", "original", "Yes", -0.5},
      {"c", "i/c.jpg", "Q c", "diffusion:500", "No", -0.7},
      {"c", "i/c.jpg", "Q c", "moco", "Maybe", -0.9},
      {"d", "i/d.jpg", "Q d", "moco", "lonely", -0.9},  // no original: skipped
  };
}

}  // namespace

TEST(SevaPairs, CleanAnswerRemovesEosAndNewlines) {
  EXPECT_EQ(method::clean_answer("a\nb</s>\n"), "ab");
  EXPECT_EQ(method::clean_answer("</s></s>x"), "x");
}

TEST(SevaPairs, FilterKeepsDifferingAnswersAsMultipleNegatives) {
  auto r = rows();
  auto res = method::make_pairs(r, {});
  EXPECT_EQ(res.items, 3);
  EXPECT_EQ(res.no_original, 1);
  ASSERT_EQ(res.pairs.size(), 2u);
  EXPECT_EQ(res.pairs[0].id, "a");
  EXPECT_EQ(res.pairs[0].chosen, "A cat.");
  EXPECT_EQ(res.pairs[0].rejected, (std::vector<std::string>{"A dog."}));
  EXPECT_EQ(res.pairs[0].augs, (std::vector<std::string>{"moco"}));
  EXPECT_DOUBLE_EQ(res.pairs[0].chosen_ref_logp.value(), -1.5);
  EXPECT_EQ(res.pairs[1].id, "c");
  EXPECT_EQ(res.pairs[1].rejected, (std::vector<std::string>{"No", "Maybe"}));
  EXPECT_EQ(res.pairs[1].augs, (std::vector<std::string>{"diffusion:500", "moco"}));
  ASSERT_EQ(res.per_view.size(), 2u);
  EXPECT_EQ(res.per_view[0].view, "diffusion:500");
  EXPECT_EQ(res.per_view[0].items, 3);
  EXPECT_EQ(res.per_view[0].differ, 1);
  EXPECT_EQ(res.per_view[1].view, "moco");
  EXPECT_EQ(res.per_view[1].differ, 2);

  // One view only: the single-negative SeVa pairs.
  method::PairOptions o;
  o.views = {"diffusion:500"};
  res = method::make_pairs(r, o);
  ASSERT_EQ(res.pairs.size(), 1u);
  EXPECT_EQ(res.pairs[0].id, "c");
  auto off = train::official_json(res.pairs[0]);
  EXPECT_EQ(off, (nlohmann::json{{"chosen", "Yes"}, {"reject", "No"}, {"question", "Q c"}, {"image_id", "i/c.jpg"}}));
}

TEST(SevaPairs, MinChosenProbDropsUnsureChosenAnswers) {
  // Pair a's chosen answer has probability e^-1.5 = 0.22, pair c's e^-0.5 = 0.61.
  method::PairOptions o;
  o.min_chosen_prob = 0.3;
  auto res = method::make_pairs(rows(), o);
  ASSERT_EQ(res.pairs.size(), 1u);
  EXPECT_EQ(res.pairs[0].id, "c");
  EXPECT_EQ(res.low_confidence, 1);
  EXPECT_EQ(res.filtered, 1);
  o.min_chosen_prob = 0.7;
  EXPECT_EQ(method::make_pairs(rows(), o).pairs.size(), 0u);
}

TEST(SevaPairs, MaxChosenProbDropsAlreadyCertainChosenAnswers) {
  // The same pairs: a's chosen answer has probability 0.22, c's 0.61.
  method::PairOptions o;
  o.max_chosen_prob = 0.5;
  auto res = method::make_pairs(rows(), o);
  ASSERT_EQ(res.pairs.size(), 1u);
  EXPECT_EQ(res.pairs[0].id, "a");
  EXPECT_EQ(res.high_confidence, 1);
  EXPECT_EQ(res.low_confidence, 0);
  // With a floor too, only the band [0.3, 0.7] is kept: c.
  o.min_chosen_prob = 0.3;
  o.max_chosen_prob = 0.7;
  res = method::make_pairs(rows(), o);
  ASSERT_EQ(res.pairs.size(), 1u);
  EXPECT_EQ(res.pairs[0].id, "c");
  EXPECT_EQ(res.low_confidence, 1);
  EXPECT_EQ(res.high_confidence, 0);
}

TEST(SevaPairs, MaxPairsDownsamplesDeterministicallyInOrder) {
  std::vector<AnswerRow> r;
  for (int i = 0; i < 50; ++i) {
    std::string id = "q" + std::to_string(100 + i);
    r.push_back({id, "x.jpg", "Q", "original", "yes", 0});
    r.push_back({id, "x.jpg", "Q", "diffusion:800", "no", 0});
  }
  method::PairOptions o;
  o.max_pairs = 10;
  o.seed = 4;
  auto a = method::make_pairs(r, o), b = method::make_pairs(r, o);
  EXPECT_EQ(a.filtered, 50);
  ASSERT_EQ(a.pairs.size(), 10u);
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(a.pairs[i].id, b.pairs[i].id);
  for (size_t i = 1; i < 10; ++i) EXPECT_LT(a.pairs[i - 1].id, a.pairs[i].id) << "file order is kept";
  o.seed = 5;
  auto c = method::make_pairs(r, o);
  bool differs = false;
  for (size_t i = 0; i < 10; ++i) differs = differs || a.pairs[i].id != c.pairs[i].id;
  EXPECT_TRUE(differs);
}

TEST(SevaPairs, WritesBothFormats) {
  auto dir = test::temp_dir("pairs");
  auto res = method::make_pairs(rows(), {});
  train::write_pairs(res.pairs, dir + "/pairs.jsonl", "seva");
  auto lines = io::read_jsonl(dir + "/pairs.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1]["rejected"].size(), 2u);
  EXPECT_EQ(lines[1]["chosen_ref_logp"], -0.5);
  train::write_pairs(res.pairs, dir + "/pairs.json", "official");
  auto arr = io::read_json(dir + "/pairs.json");
  ASSERT_TRUE(arr.is_array());
  ASSERT_EQ(arr.size(), 2u);
  EXPECT_EQ(arr[1]["reject"], "No");
  EXPECT_EQ(arr[0]["image_id"], "i/a.jpg");
  EXPECT_THROW(train::write_pairs(res.pairs, dir + "/x", "yaml"), std::invalid_argument);
}

TEST(SevaPairs, ReadsAnswersIgnoringATornTail) {
  auto dir = test::temp_dir("pairs");
  io::write_file_atomic(dir + "/answers.jsonl",
                        "{\"id\":\"a\",\"view\":\"original\",\"answer\":\"x\",\"logprob\":-1}\n{\"id\":\"a\",\"vi");
  auto r = method::read_answers(dir + "/answers.jsonl");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_DOUBLE_EQ(r[0].logprob, -1);
}

TEST(SevaPairs, BalanceCapsAnAnswerRejectedMoreOftenThanChosen) {
  // Noise hides objects: 30 "yes" answers turn "no"; a hue shift makes 6 "no" answers "yes";
  // 3 digit answers are misread, each differently.
  std::vector<AnswerRow> r;
  auto add = [&](const std::string& id, const std::string& orig, const std::string& aug) {
    r.push_back({id, "x.png", "Q", "original", orig, -0.1});
    r.push_back({id, "x.png", "Q", "diffusion:500", aug, -1.0});
  };
  for (int i = 0; i < 30; ++i) add("e" + std::to_string(100 + i), "yes", "no");
  for (int i = 0; i < 6; ++i) add("h" + std::to_string(i), "no", "yes");
  add("t0", "105", "474");
  add("t1", "941", "444");
  add("t2", "377", "474");
  method::PairOptions o;
  o.balance = 1;
  o.balance_min = 2;
  o.seed = 3;
  auto res = method::make_pairs(r, o);
  // "no" is rejected 30 times and chosen 6: 24 of its pairs go; "yes" (rejected 6, chosen 30 then
  // 6) and "474" (rejected twice, at the floor) stay.
  EXPECT_EQ(res.unbalanced_negatives, 24);
  EXPECT_EQ(res.unbalanced, 24);
  ASSERT_EQ(res.pairs.size(), 15u);
  std::map<std::string, int> chosen, rejected;
  for (const auto& p : res.pairs) {
    ++chosen[p.chosen];
    for (const auto& n : p.rejected) ++rejected[n];
  }
  EXPECT_EQ(chosen["yes"], 6);
  EXPECT_EQ(rejected["no"], 6);
  EXPECT_EQ(chosen["no"], 6);
  EXPECT_EQ(rejected["474"], 2);
  // File order is kept, and another seed keeps another 6 of the 30.
  EXPECT_EQ(res.pairs.back().id, "t2");
  o.seed = 4;
  auto other = method::make_pairs(r, o);
  ASSERT_EQ(other.pairs.size(), 15u);
  bool differs = false;
  for (size_t i = 0; i < 6; ++i) differs = differs || other.pairs[i].id != res.pairs[i].id;
  EXPECT_TRUE(differs);
}

TEST(SevaPairs, BalanceDropsNegativesNotWholeMultiNegativePairs) {
  // Two views: "no" on the first is over-rejected, each second view's answer is unique.
  std::vector<AnswerRow> r;
  auto add = [&](const std::string& id, const std::string& orig, const std::string& noised, const std::string& jittered) {
    r.push_back({id, "x.png", "Q", "original", orig, -0.1});
    r.push_back({id, "x.png", "Q", "diffusion:500", noised, -1.0});
    r.push_back({id, "x.png", "Q", "jitter", jittered, -1.0});
  };
  for (int i = 0; i < 10; ++i) add("y" + std::to_string(i), "yes", "no", "blue" + std::to_string(i));
  for (int i = 0; i < 3; ++i) add("z" + std::to_string(i), "no", "yes", "yes");
  method::PairOptions o;
  o.balance = 1;
  o.balance_min = 1;
  auto res = method::make_pairs(r, o);
  EXPECT_EQ(res.unbalanced_negatives, 7);
  EXPECT_EQ(res.unbalanced, 0);
  ASSERT_EQ(res.pairs.size(), 13u);
  int with_no = 0;
  for (const auto& p : res.pairs) {
    ASSERT_EQ(p.rejected.size(), p.augs.size());
    if (p.chosen != "yes") continue;
    const bool has_no = p.rejected.front() == "no";
    with_no += has_no;
    EXPECT_EQ(p.rejected.size(), has_no ? 2u : 1u);
    EXPECT_EQ(p.augs.back(), "jitter");
    EXPECT_EQ(p.rejected.back().substr(0, 4), "blue");
  }
  EXPECT_EQ(with_no, 3);
  o.balance = 0;
  EXPECT_EQ(method::make_pairs(r, o).unbalanced_negatives, 0);
}
