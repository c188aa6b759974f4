// The EvalAI answer normalisation of TextVQA/VQAv2 (m4c's EvalAIAnswerProcessor, as LLaVA's
// eval_textvqa.py uses it), reproduced step by step including its quirks.
#pragma once
#include <string>

namespace seva::eval {

// In order:
//  1. lower-case; remove ',' and '?'; "'s" → " 's"; strip;
//  2. '\n' and '\t' → ' '; strip;
//  3. each of ; / [ ] " { } ( ) = + \ _ - > < @ ` , ? ! (not ':', not '\'') removed when the text
//     has it next to a space (or has digit,digit), else replaced by a space; then every '.' not
//     followed by a digit removed (at most 32: the original passes re.UNICODE as sub()'s count);
//  4. split on whitespace; number words none/zero…ten → digits; articles a/an/the dropped;
//     contraction spellings fixed from the official table ("dont" → "don't"); joined by ' '.
// Case-folding is ASCII only (Python's str.lower() also folds non-ASCII letters).
std::string vqa_normalize(const std::string& answer);

}  // namespace seva::eval
