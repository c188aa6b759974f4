// The world's questions: answers agree with the scene, templates, choices, POPE negatives.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "eval/mmbench.h"
#include "synth/questions.h"

using namespace seva;
using namespace seva::synth;

namespace {

// Red circle top left, blue square top right, green square bottom middle; digits 472.
Scene known_scene() {
  Scene s;
  s.objects = {{0, 0, 0, 12, 0, 0, Hard::none}, {2, 1, 2, 12, 0, 0, Hard::none}, {1, 1, 4, 12, 0, 0, Hard::none}};
  s.digits = "472";
  s.digit_dx = {0, 0, 0};
  s.digit_dy = {0, 0, 0};
  return s;
}

}  // namespace

TEST(SynthQuestions, CaptionListsEveryCellThenTheDigits) {
  EXPECT_EQ(caption(known_scene()), "red circle none blue square none green square none text 4 7 2");
}

TEST(SynthQuestions, AnswersMatchAKnownScene) {
  const Scene s = known_scene();
  const WorldStats stats = compute_stats(0, 500);
  for (int seed = 0; seed < 40; ++seed) {
    util::Rng rng(seed);
    Qa c = color_question(s, rng);
    // The circle is the only shape that appears once; squares are asked by place.
    if (c.question == "What color is the circle?") EXPECT_EQ(c.answer, "red");
    else if (c.question == "What color is the object at the top right?") EXPECT_EQ(c.answer, "blue");
    else if (c.question == "What color is the object at the bottom middle?") EXPECT_EQ(c.answer, "green");
    else if (c.question == "What color is the object at the top left?") EXPECT_EQ(c.answer, "red");
    else ADD_FAILURE() << c.question;
    if (c.question.find("square") != std::string::npos) ADD_FAILURE() << "two squares: never asked by shape";

    Qa n = count_question(s, rng);
    const std::map<std::string, std::string> counts = {{"How many objects are there?", "3"},
                                                       {"How many circles are there?", "1"},
                                                       {"How many squares are there?", "2"},
                                                       {"How many triangles are there?", "0"}};
    ASSERT_TRUE(counts.count(n.question)) << n.question;
    EXPECT_EQ(n.answer, counts.at(n.question));

    Qa p = position_question(s, rng);
    const std::map<std::string, std::string> where = {{"Where is the red circle?", "top left"},
                                                      {"Where is the blue square?", "top right"},
                                                      {"Where is the green square?", "bottom middle"}};
    ASSERT_TRUE(where.count(p.question)) << p.question;
    EXPECT_EQ(p.answer, where.at(p.question));

    EXPECT_EQ(text_question(s, rng).answer, "472");
    EXPECT_EQ(text_question(s, rng).question, "What is the number at the bottom?");

    Qa yes = exist_question(s, rng, true, NegativeKind::random, stats);
    EXPECT_EQ(yes.answer, "yes");
    EXPECT_TRUE(yes.question == "Is there a red circle in the image?" || yes.question == "Is there a blue square in the image?" ||
                yes.question == "Is there a green square in the image?")
        << yes.question;
    for (auto neg : {NegativeKind::random, NegativeKind::popular, NegativeKind::adversarial}) {
      Qa no = exist_question(s, rng, false, neg, stats);
      EXPECT_EQ(no.answer, "no");
      EXPECT_EQ(no.category, negative_name(neg));
      for (const char* present : {"red circle", "blue square", "green square"})
        EXPECT_EQ(no.question.find(present), std::string::npos) << no.question;
    }
  }
}

TEST(SynthQuestions, PopularAndAdversarialNegativesFollowTheStatistics) {
  const WorldStats stats = compute_stats(0, 3000);
  Scene s;  // a lone yellow triangle: the popular negatives are the preferred pairs
  s.objects = {{3, 2, 0, 12, 0, 0, Hard::none}};
  s.digits = "12";
  std::set<int> popular, adversarial, random;
  for (int seed = 0; seed < 200; ++seed) {
    util::Rng rng(seed);
    popular.insert(absent_kind(s, rng, NegativeKind::popular, stats));
    adversarial.insert(absent_kind(s, rng, NegativeKind::adversarial, stats));
    random.insert(absent_kind(s, rng, NegativeKind::random, stats));
  }
  EXPECT_EQ(popular.size(), 3u);
  EXPECT_EQ(popular, std::set<int>(stats.by_frequency.begin(), stats.by_frequency.begin() + 3));
  EXPECT_EQ(adversarial.size(), 3u);
  EXPECT_TRUE(adversarial.count(kind_of(1, 2))) << "a green triangle co-occurs most with a triangle";
  EXPECT_EQ(random.size(), size_t(kKinds - 1));
  EXPECT_FALSE(random.count(kind_of(3, 2)));
}

TEST(SynthQuestions, MultipleChoiceHasFourDistinctOptionsAndTheRightLetter) {
  const WorldStats stats = compute_stats(0, 500);
  std::map<int, int> letters;
  for (int64_t i = 0; i < 300; ++i) {
    const Scene s = sample_scene(4, "bench", i);
    util::Rng rng(i);
    for (Family asked : {Family::color, Family::count, Family::position, Family::exist, Family::text}) {
      Qa q = choice_question(s, rng, asked, stats);
      ASSERT_EQ(q.options.size(), 4u);
      EXPECT_EQ(std::set<std::string>(q.options.begin(), q.options.end()).size(), 4u);
      ASSERT_GE(q.answer_index, 0);
      EXPECT_EQ(q.answer, std::string(1, char('A' + q.answer_index)));
      EXPECT_EQ(q.category, family_name(asked));
      EXPECT_EQ(q.family, Family::choice);
      ++letters[q.answer_index];
      // The option at the answer letter is the right one.
      const std::string& right = q.options[q.answer_index];
      if (asked == Family::text) {
        EXPECT_EQ(right, s.digits);
      }
      if (asked == Family::exist) {
        int present = 0;
        for (const auto& opt : q.options)
          for (const auto& o : s.objects) present += kind_name(o.kind()) == opt;
        EXPECT_EQ(present, 1);
        bool ok = false;
        for (const auto& o : s.objects) ok = ok || kind_name(o.kind()) == right;
        EXPECT_TRUE(ok);
      }
      if (asked == Family::count && q.stem == "How many objects are there?") {
        EXPECT_EQ(right, std::to_string(s.objects.size()));
      }
      // The prompt is LLaVA-1.5's MMBench prompt without the image marker.
      eval::MmbenchQuestion mq;
      mq.question = q.stem;
      mq.options = q.options;
      EXPECT_EQ("<image>\n" + q.question, eval::mmbench_prompt(mq, 0));
    }
  }
  for (int l = 0; l < 4; ++l) EXPECT_GT(letters[l], 300 * 5 / 4 * 0.8) << "letter " << l;
}

TEST(SynthQuestions, FamilyNames) {
  for (Family f : question_families()) EXPECT_EQ(family_from_name(family_name(f)), f);
  EXPECT_EQ(question_families().size(), 6u);
  EXPECT_THROW(family_from_name("colour"), std::invalid_argument);
}
