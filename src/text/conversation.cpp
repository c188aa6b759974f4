// The llava_v1 prompt template and answer stripping.
#include "text/conversation.h"

#include "io/files.h"
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

ChatTemplate ChatTemplate::from_model_dir(const std::string& model_dir) {
  ChatTemplate t;
  const std::string path = io::join_path(model_dir, "seva.json");
  if (!io::file_exists(path)) return t;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(io::read_file(path));
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": not valid JSON (" + e.what() + ")");
  }
  if (!j.is_object()) throw std::runtime_error(path + ": expected a JSON object");
  if (!j.contains("system_prompt")) return t;
  if (!j["system_prompt"].is_string()) throw std::runtime_error(path + ": \"system_prompt\" must be a string");
  t.system = j["system_prompt"].get<std::string>();
  return t;
}

std::string ChatTemplate::prefix() const { return system.empty() ? std::string() : system + " "; }

std::string ChatTemplate::prompt(const std::string& question) const {
  const bool has_image = question.find("<image>") != std::string::npos;
  return prefix() + "USER: " + (has_image ? "" : "<image>\n") + question + " ASSISTANT:";
}

std::string strip_answer(const std::string& answer) {
  std::string s = strip(answer);
  const std::string eos = "</s>";
  if (util::ends_with(s, eos)) s = strip(s.substr(0, s.size() - eos.size()));
  return s;
}

}  // namespace seva::text
