// The conversation templates (llava_v1, ChatML) and answer clean-up.
#pragma once
#include <string>

namespace seva::text {

extern const char* const kLlavaV1System;

extern const char* const kChatMLSystem;

// A model's conversation template: the family's format (llava_v1 for LLaVA, ChatML for Qwen2-VL,
// as their processors' chat templates write it) with the system text the checkpoint names. A
// value the loaded model owns (generate::Vlm::chat) and passes to whatever builds its prompts.
struct ChatTemplate {
  enum class Format { LlavaV1, ChatML };
  Format format = Format::LlavaV1;
  // The text that opens every conversation. A checkpoint may name another, or none, in its
  // `seva.json` ({"system_prompt": "..."}); for llava_v1 an empty one gives llava-hf's chat
  // format, "USER: ...", for ChatML no system turn.
  std::string system = kLlavaV1System;

  // MODEL_DIR/seva.json's "system_prompt" (the format's default when the file or key is absent);
  // a malformed file throws naming it.
  static ChatTemplate from_model_dir(const std::string& model_dir, Format format = Format::LlavaV1);

  // What precedes the first user turn: llava_v1's system text and a space; ChatML's system turn.
  std::string prefix() const;
  // The text that stands for the image in a prompt: "<image>", or Qwen2-VL's
  // "<|vision_start|><|image_pad|><|vision_end|>" (the model expands the pad per image).
  std::string image_marker() const;
  // One user turn and the assistant's opening, up to where the answer starts:
  // "USER: <q> ASSISTANT:" / "<|im_start|>user\n<q><|im_end|>\n<|im_start|>assistant\n".
  std::string user_turn(const std::string& question) const;
  // What goes between the assistant's opening and the answer (" " for llava_v1), and what ends
  // an answer: its end-of-turn token, then any text before the next turn.
  std::string answer_lead() const;
  std::string answer_end_token() const;  // "</s>" / "<|im_end|>"
  std::string after_answer() const;      // "" / "\n"
  // The question with the image marker placed as the family's processor places it: where the
  // question holds "<image>" (LLaVA-style data), else before the question ("<image>\n" for llava_v1).
  std::string place_image(const std::string& question) const;
  // prefix() + user_turn(place_image(question)): the prompt an answer is generated from.
  std::string prompt(const std::string& question) const;
};

// Strips surrounding whitespace and a trailing "</s>" (then whitespace again).
std::string strip_answer(const std::string& answer);

}  // namespace seva::text
