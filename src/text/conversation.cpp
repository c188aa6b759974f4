// The llava_v1 prompt template and answer stripping.
#include "text/conversation.h"

namespace seva::text {
namespace {

std::string strip(const std::string& s) {
  const char* ws = " \t\n\r\v\f";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

}  // namespace

const char* const kLlavaV1System =
    "A chat between a curious human and an artificial intelligence assistant. The assistant gives "
    "helpful, detailed, and polite answers to the human's questions.";

std::string llava_v1_prompt(const std::string& question) {
  const bool has_image = question.find("<image>") != std::string::npos;
  return std::string(kLlavaV1System) + " USER: " + (has_image ? "" : "<image>\n") + question + " ASSISTANT:";
}

std::string strip_answer(const std::string& answer) {
  std::string s = strip(answer);
  const std::string eos = "</s>";
  if (s.size() >= eos.size() && s.compare(s.size() - eos.size(), eos.size(), eos) == 0)
    s = strip(s.substr(0, s.size() - eos.size()));
  return s;
}

}  // namespace seva::text
