// The multiple-choice curriculum files: the binding drill's letter is the stated answer's option's,
// the world's questions come with their open twins as asked, and both files parse as SFT data.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "eval/mmbench.h"
#include "io/files.h"
#include "synth/choice_drill.h"
#include "synth/world.h"
#include "test_helpers.h"
#include "train/sft.h"

using namespace seva;

namespace {

// The option lines of a prompt: letter → text.
std::map<char, std::string> option_lines(const std::string& prompt) {
  std::map<char, std::string> out;
  size_t at = 0;
  while ((at = prompt.find('\n', at)) != std::string::npos) {
    ++at;
    if (at + 3 <= prompt.size() && prompt[at] >= 'A' && prompt[at] <= 'D' && prompt.compare(at + 1, 2, ". ") == 0) {
      const size_t end = prompt.find('\n', at);
      out[prompt[at]] = prompt.substr(at + 3, end - at - 3);
    }
  }
  return out;
}

}  // namespace

TEST(SynthChoiceDrill, BindingAnswerIsTheLetterOfTheStatedOption) {
  util::Rng rng(11);
  std::map<size_t, int> by_count;
  std::map<std::string, int> letters;
  for (int i = 0; i < 2000; ++i) {
    const synth::Qa q = synth::binding_question(rng);
    EXPECT_EQ(q.family, synth::Family::choice);
    EXPECT_EQ(q.category, "binding");
    const auto opts = option_lines(q.question);
    ASSERT_EQ(opts.size(), q.options.size()) << q.question;
    ASSERT_GE(opts.size(), 2u);
    ASSERT_LE(opts.size(), 4u);
    by_count[opts.size()]++;
    std::set<std::string> distinct;
    for (const auto& [l, text] : opts) distinct.insert(text);
    EXPECT_EQ(distinct.size(), opts.size()) << q.question;
    ASSERT_EQ(q.answer.size(), 1u);
    ASSERT_TRUE(opts.count(q.answer[0])) << q.question;
    const std::string stated = q.options[static_cast<size_t>(q.answer_index)];
    EXPECT_EQ(opts.at(q.answer[0]), stated);
    EXPECT_EQ(q.question.rfind("The answer is " + stated + ".\n", 0), 0u) << q.question;
    EXPECT_EQ(q.question.substr(q.question.size() - std::string(eval::kMmbenchInstruction).size()),
              eval::kMmbenchInstruction);
    letters[q.answer]++;
  }
  // 2, 3 and 4 options a quarter, a quarter and half the time; every letter is an answer.
  EXPECT_NEAR(by_count[2] / 2000.0, 0.25, 0.04);
  EXPECT_NEAR(by_count[3] / 2000.0, 0.25, 0.04);
  EXPECT_NEAR(by_count[4] / 2000.0, 0.50, 0.04);
  for (const char* l : {"A", "B", "C", "D"}) EXPECT_GT(letters[l], 300) << l;
  // Fewer than four options use other letters than the first ones (the letter must be read).
  util::Rng again(11);
  bool skipped_a_letter = false;
  for (int i = 0; i < 200 && !skipped_a_letter; ++i) {
    const auto opts = option_lines(synth::binding_question(again).question);
    skipped_a_letter = opts.size() < 4 && opts.rbegin()->first != static_cast<char>('A' + opts.size() - 1);
  }
  EXPECT_TRUE(skipped_a_letter);
  // A fixed number of options: exactly that many, the stated one's letter the answer; others refused.
  for (int k : {2, 3, 4})
    for (int i = 0; i < 50; ++i) {
      const synth::Qa q = synth::binding_question(rng, k);
      const auto opts = option_lines(q.question);
      ASSERT_EQ(opts.size(), static_cast<size_t>(k)) << q.question;
      EXPECT_EQ(opts.at(q.answer[0]), q.options[static_cast<size_t>(q.answer_index)]);
    }
  EXPECT_THROW(synth::binding_question(rng, 1), std::invalid_argument);
  EXPECT_THROW(synth::binding_question(rng, 5), std::invalid_argument);
}

TEST(SynthChoiceDrill, ChoiceTurnsFollowTheirOpenTwins) {
  const auto stats = synth::compute_stats(3);
  for (double share : {0.0, 1.0, 0.5}) {
    int open = 0, mc = 0;
    for (int64_t i = 0; i < 60; ++i) {
      const synth::Scene s = synth::sample_scene(3, "train", i);
      util::Rng rng(util::hash_key(3, "t", std::to_string(i)));
      const auto turns = synth::choice_turns(s, rng, stats, 3, share);
      std::set<std::string> asked;
      for (size_t t = 0; t < turns.size(); ++t) {
        if (turns[t].family != synth::Family::choice) {  // an open question: the next turn is its MC form
          ++open;
          ASSERT_LT(t + 1, turns.size());
          const auto& next = turns[t + 1];
          ASSERT_EQ(next.family, synth::Family::choice);
          EXPECT_EQ(next.stem, turns[t].question);
          EXPECT_EQ(next.options[static_cast<size_t>(next.answer_index)], turns[t].answer);
          EXPECT_NE(next.category, "exist");
          EXPECT_EQ(synth::family_name(turns[t].family), next.category);
        } else {
          ++mc;
          asked.insert(turns[t].category);
          EXPECT_EQ(option_lines(turns[t].question).at(turns[t].answer[0]),
                    turns[t].options[static_cast<size_t>(turns[t].answer_index)]);
        }
      }
      EXPECT_EQ(asked.size(), 3u);  // three distinct families
    }
    EXPECT_EQ(mc, 180);
    if (share == 0.0) { EXPECT_EQ(open, 0); }
    if (share == 1.0) { EXPECT_GT(open, 120); }  // all but the exist forms (3 of 5 families asked)
    if (share == 0.5) {
      EXPECT_GT(open, 40);
      EXPECT_LT(open, 110);
    }
  }
}

TEST(SynthChoiceDrill, WorldWritesBothStagesOutsideTheCorpus) {
  const std::string dir = test::temp_dir("world-choice");
  synth::WorldOptions o;
  o.out = dir;
  o.seed = 5;
  o.train = 40;
  o.pool = 8;
  o.bench = 12;
  o.quiet = true;
  const auto manifest = synth::write_world(o);
  EXPECT_EQ(manifest["files"]["sft_choice_drill"], "sft_choice_drill.json");
  EXPECT_EQ(manifest["files"]["sft_choice"], "sft_choice.json");
  EXPECT_EQ(manifest["files"]["sft_choice_drill2"], "sft_choice_drill2.json");
  int64_t skipped = -1;
  // The two-option drill: three stated-answer questions per image, each with exactly two options.
  const auto drill2 = train::read_sft_data(dir + "/sft_choice_drill2.json", &skipped);
  EXPECT_EQ(skipped, 0);
  ASSERT_EQ(drill2.size(), 40u);
  for (const auto& ex : drill2) {
    ASSERT_EQ(ex.turns.size(), 3u);
    for (const auto& [question, answer] : ex.turns) {
      EXPECT_EQ(option_lines(question).size(), 2u) << question;
      EXPECT_TRUE(option_lines(question).count(answer[0])) << question << " -> " << answer;
    }
  }
  const auto drill = train::read_sft_data(dir + "/sft_choice_drill.json", &skipped);
  EXPECT_EQ(skipped, 0);
  ASSERT_EQ(drill.size(), 40u);
  for (const auto& ex : drill) {
    ASSERT_EQ(ex.turns.size(), 3u);
    EXPECT_EQ(ex.turns[0].first.rfind("<image>\nThe answer is ", 0), 0u);
    EXPECT_EQ(ex.image.rfind("train/", 0), 0u);
  }
  const auto choice = train::read_sft_data(dir + "/sft_choice.json", &skipped);
  ASSERT_EQ(choice.size(), 40u);
  int binding = 0, world_questions = 0;
  for (const auto& ex : choice) {
    const bool is_drill = ex.turns[0].first.rfind("<image>\nThe answer is ", 0) == 0;
    binding += is_drill;
    world_questions += !is_drill;
    EXPECT_GE(ex.turns.size(), 3u);
    EXPECT_LE(ex.turns.size(), 6u);
  }
  EXPECT_GT(binding, 5);  // 40% of entries
  EXPECT_GT(world_questions, 12);
  // The drill's text stays out of the tokenizer's corpus (the base's tokenizer did not change).
  EXPECT_EQ(io::read_file(dir + "/corpus.txt").find("The answer is"), std::string::npos);
}
