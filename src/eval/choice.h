// Which lettered option a free-form answer picks (multiple-choice benchmarks such as MMBench).
#pragma once
#include <string>
#include <vector>

namespace seva::eval {

// `options[i]` is the text shown after letter 'A' + i. Returns the chosen index, or -1 when the
// answer names none or several. In order:
//  1. a letter at the very start, alone or closed by punctuation: "B", "B.", "B)", "(B)", "[B]",
//     "B: cat", "b" (lower case only as the whole answer);
//  2. VLMEvalKit's can_infer_option: with . ( ) [ ] , : ; ! * # { } turned into spaces, exactly one
//     of the valid letters is a word ("The answer is C"); except that an "A" among other words
//     (maybe the article: "A red car") yields to step 3 when that finds an option; several
//     letters ("A or B") go on to step 3;
//  3. VLMEvalKit's can_infer_text: exactly one option's text occurs in the answer (case-folded);
//     when several do, the ones contained in another matching option's text are set aside
//     ("red car" beats "car").
int extract_choice(const std::string& answer, const std::vector<std::string>& options);

}  // namespace seva::eval
