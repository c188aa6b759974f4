// The llava_v1 conversation template (prompt building) and answer clean-up.
#pragma once
#include <string>

namespace seva::text {

extern const char* const kLlavaV1System;

// A model's conversation template: llava_v1's, with the system text the checkpoint names. A value
// the loaded model owns (generate::Vlm::chat) and passes to whatever builds its prompts.
struct ChatTemplate {
  // The text that opens every conversation. A checkpoint may name another, or none, in its
  // `seva.json` ({"system_prompt": "..."}); an empty one gives llava-hf's chat format, "USER: ...".
  std::string system = kLlavaV1System;

  // MODEL_DIR/seva.json's "system_prompt" (llava_v1's when the file or key is absent); a malformed
  // file throws naming it.
  static ChatTemplate from_model_dir(const std::string& model_dir);

  // What precedes the first "USER:": the system text and a space, or nothing.
  std::string prefix() const;
  // "<system> USER: <image>\n<question> ASSISTANT:"; no second "<image>" if the question has one.
  std::string prompt(const std::string& question) const;
};

// Strips surrounding whitespace and a trailing "</s>" (then whitespace again).
std::string strip_answer(const std::string& answer);

}  // namespace seva::text
