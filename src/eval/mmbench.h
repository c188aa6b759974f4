// MMBench: the TSV, LLaVA-1.5's prompt, circular rotations and scoring (single pass and circular).
#pragma once
#include "eval/report.h"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace seva::eval {

extern const char* const kMmbenchInstruction;  // "Answer with the option's letter from the given choices directly."

struct MmbenchQuestion {
  std::string key;                   // the `index` cell
  nlohmann::json question_id;        // the index as an integer when it is one (as LLaVA writes it), else the string
  std::string question;
  std::string hint;                  // "" when absent
  std::vector<std::string> options;  // columns A, B, C, D up to the first empty one
  int answer = -1;                   // index into options; -1 when the file has no answer
  std::string category, l2_category;
  std::string image_base64;          // resolved: a short cell naming another row's index is replaced by that row's image
  size_t line = 0;
};

// Reads an MMBench TSV (`index`, `question`, `hint`, `A`..`D`, `answer`, `category`,
// `l2-category`, `image`; other columns ignored). A cell counts as empty as pandas' read_table
// makes it NaN ("", "nan", "NaN", "None", "NA", "N/A", "null", …): LLaVA's script sees those as
// absent, and stops at the first absent option. Errors name file and line.
std::vector<MmbenchQuestion> read_mmbench(const std::string& path);
std::vector<MmbenchQuestion> parse_mmbench(const std::string& text, const std::string& name);

// The options as shown in round r (LLaVA's rotation: options[r:] + options[:r]); letters stay A, B, …
std::vector<std::string> mmbench_round_options(const MmbenchQuestion& q, int round);
// The index of the correct letter in round r, or -1 without an answer.
int mmbench_round_answer(const MmbenchQuestion& q, int round);
// The question text LLaVA-1.5 gives the model (before the llava_v1 template):
// "<image>\n" [hint "\n"] question ("\n" L ". " option)… "\n" kMmbenchInstruction.
std::string mmbench_prompt(const MmbenchQuestion& q, int round);
// Rounds asked per question: the number of options when circular, else 1.
int mmbench_rounds(const MmbenchQuestion& q, bool circular);

// Per category and overall: `accuracy` (round 0 alone), `circular_accuracy` (every round right,
// over the questions whose every round is answered), `circular_scored`, `unparsed` (answers
// naming no option: wrong), `unlabelled` (no answer key: asked, never scored), and the coverage
// counts (scored = round 0 answered). Answers are keyed answer_key(key, round).
ordered_json score_mmbench(const std::vector<MmbenchQuestion>& questions,
                           const std::map<std::string, std::string>& answers,
                           const std::set<std::string>& missing_images = {});

}  // namespace seva::eval
