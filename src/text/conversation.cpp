// The conversation templates (llava_v1, ChatML) and answer stripping.
#include "text/conversation.h"

#include "io/files.h"
#include "io/jsonl.h"
#include "util/strings.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace seva::text {
namespace {

using util::strip;  // the ASCII whitespace " \t\n\r\v\f"

}  // namespace

const char* const kLlavaV1System =
    "A chat between a curious human and an artificial intelligence assistant. The assistant gives "
    "helpful, detailed, and polite answers to the human's questions.";

const char* const kChatMLSystem = "You are a helpful assistant.";

ChatTemplate ChatTemplate::from_model_dir(const std::string& model_dir, Format format) {
  ChatTemplate t;
  t.format = format;
  t.system = format == Format::ChatML ? kChatMLSystem : kLlavaV1System;
  const std::string path = io::join_path(model_dir, "seva.json");
  if (!io::file_exists(path)) return t;
  nlohmann::json j;
  try {
    j = io::parse_json(io::read_file(path));  // depth-bounded
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": not valid JSON (" + e.what() + ")");
  }
  if (!j.is_object()) throw std::runtime_error(path + ": expected a JSON object");
  if (!j.contains("system_prompt")) return t;
  if (!j["system_prompt"].is_string()) throw std::runtime_error(path + ": \"system_prompt\" must be a string");
  t.system = j["system_prompt"].get<std::string>();
  return t;
}

std::string ChatTemplate::prefix() const {
  if (system.empty()) return "";
  return format == Format::ChatML ? "<|im_start|>system\n" + system + "<|im_end|>\n" : system + " ";
}

std::string ChatTemplate::image_marker() const {
  return format == Format::ChatML ? "<|vision_start|><|image_pad|><|vision_end|>" : "<image>";
}

std::string ChatTemplate::user_turn(const std::string& question) const {
  if (format == Format::ChatML) return "<|im_start|>user\n" + question + "<|im_end|>\n<|im_start|>assistant\n";
  return "USER: " + question + " ASSISTANT:";
}

std::string ChatTemplate::answer_lead() const { return format == Format::ChatML ? "" : " "; }
std::string ChatTemplate::answer_end_token() const { return format == Format::ChatML ? "<|im_end|>" : "</s>"; }
std::string ChatTemplate::after_answer() const { return format == Format::ChatML ? "\n" : ""; }

std::string ChatTemplate::place_image(const std::string& question) const {
  const auto at = question.find("<image>");
  if (format == Format::LlavaV1) return (at == std::string::npos ? "<image>\n" : "") + question;
  if (at == std::string::npos) return image_marker() + question;
  // LLaVA-style data writes "<image>\n" before the question: the marker takes its place.
  std::string q = question;
  q.replace(at, q.compare(at, 8, "<image>\n") == 0 ? 8 : 7, image_marker());
  return q;
}

std::string ChatTemplate::prompt(const std::string& question) const { return prefix() + user_turn(place_image(question)); }

std::string strip_answer(const std::string& answer) {
  std::string s = strip(answer);
  const std::string eos = "</s>";
  if (util::ends_with(s, eos)) s = strip(s.substr(0, s.size() - eos.size()));
  return s;
}

}  // namespace seva::text
