// The llava_v1 conversation template (prompt building) and answer clean-up.
#pragma once
#include <string>

namespace seva::text {

extern const char* const kLlavaV1System;

// "<system> USER: <image>\n<question> ASSISTANT:"; no second "<image>" if the question has one.
std::string llava_v1_prompt(const std::string& question);

// Strips surrounding whitespace and a trailing "</s>" (then whitespace again).
std::string strip_answer(const std::string& answer);

}  // namespace seva::text
