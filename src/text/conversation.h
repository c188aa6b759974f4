// The llava_v1 conversation template (prompt building) and answer clean-up.
#pragma once
#include <string>

namespace seva::text {

extern const char* const kLlavaV1System;

// The system text that opens every conversation of the loaded model: llava_v1's by default. A
// checkpoint may name another, or none, in its `seva.json` ({"system_prompt": "..."}); Vlm::load
// sets it (one model per process). An empty one gives llava-hf's chat format, "USER: ...".
const std::string& system_prompt();
void set_system_prompt(const std::string& system);
// Reads MODEL_DIR/seva.json's "system_prompt" (llava_v1's when the file or key is absent).
std::string read_system_prompt(const std::string& model_dir);
// What precedes the first "USER:": the system text and a space, or nothing.
std::string conversation_prefix();

// "<system> USER: <image>\n<question> ASSISTANT:"; no second "<image>" if the question has one.
std::string llava_v1_prompt(const std::string& question);

// Strips surrounding whitespace and a trailing "</s>" (then whitespace again).
std::string strip_answer(const std::string& answer);

}  // namespace seva::text
