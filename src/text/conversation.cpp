// The llava_v1 prompt template and answer stripping.
#include "text/conversation.h"

#include "io/files.h"
#include "util/strings.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace seva::text {
namespace {

using util::strip;  // the ASCII whitespace " \t\n\r\v\f", as Python's str.strip()

}  // namespace

const char* const kLlavaV1System =
    "A chat between a curious human and an artificial intelligence assistant. The assistant gives "
    "helpful, detailed, and polite answers to the human's questions.";

namespace {
std::string& current_system() {
  static std::string system = kLlavaV1System;
  return system;
}
}  // namespace

const std::string& system_prompt() { return current_system(); }
void set_system_prompt(const std::string& system) { current_system() = system; }

std::string read_system_prompt(const std::string& model_dir) {
  const std::string path = io::join_path(model_dir, "seva.json");
  if (!io::file_exists(path)) return kLlavaV1System;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(io::read_file(path));
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": not valid JSON (" + e.what() + ")");
  }
  if (!j.is_object()) throw std::runtime_error(path + ": expected a JSON object");
  if (!j.contains("system_prompt")) return kLlavaV1System;
  if (!j["system_prompt"].is_string()) throw std::runtime_error(path + ": \"system_prompt\" must be a string");
  return j["system_prompt"].get<std::string>();
}

std::string conversation_prefix() { return system_prompt().empty() ? std::string() : system_prompt() + " "; }

std::string llava_v1_prompt(const std::string& question) {
  const bool has_image = question.find("<image>") != std::string::npos;
  return conversation_prefix() + "USER: " + (has_image ? "" : "<image>\n") + question + " ASSISTANT:";
}

std::string strip_answer(const std::string& answer) {
  std::string s = strip(answer);
  const std::string eos = "</s>";
  if (s.size() >= eos.size() && s.compare(s.size() - eos.size(), eos.size(), eos) == 0)
    s = strip(s.substr(0, s.size() - eos.size()));
  return s;
}

}  // namespace seva::text
