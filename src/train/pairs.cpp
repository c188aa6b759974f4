#include "train/pairs.h"

#include "io/files.h"
#include "io/jsonl.h"
#include "text/conversation.h"

#include <stdexcept>

namespace seva::train {
namespace {

std::string str_field(const nlohmann::json& row, const char* key, const std::string& where, bool required) {
  auto it = row.find(key);
  if (it == row.end() || it->is_null()) {
    if (required) throw std::runtime_error(where + ": missing field '" + key + "'");
    return "";
  }
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  if (!it->is_string()) throw std::runtime_error(where + ": field '" + key + "' must be a string");
  return it->get<std::string>();
}

PreferencePair parse_row(const nlohmann::json& row, const std::string& where) {
  if (!row.is_object()) throw std::runtime_error(where + ": a pair must be a JSON object");
  PreferencePair p;
  p.source = where;
  p.chosen = str_field(row, "chosen", where, true);
  p.prompt = str_field(row, "prompt", where, false);
  p.question = str_field(row, "question", where, p.prompt.empty());
  p.image = row.contains("image") ? str_field(row, "image", where, true) : str_field(row, "image_id", where, true);
  p.id = row.contains("id") ? str_field(row, "id", where, true) : p.image + "#" + p.question;
  const char* rkey = row.contains("rejected") ? "rejected" : "reject";
  auto it = row.find(rkey);
  if (it == row.end()) throw std::runtime_error(where + ": missing field 'rejected' (or 'reject')");
  if (it->is_string()) p.rejected.push_back(it->get<std::string>());
  else if (it->is_array() && !it->empty() && (*it)[0].is_string()) p.rejected = it->get<std::vector<std::string>>();
  else throw std::runtime_error(where + ": field '" + rkey + "' must be a string or a non-empty list of strings");
  if (auto augs = row.find("augs"); augs != row.end() && augs->is_array())
    for (const auto& a : *augs)
      if (a.is_string()) p.augs.push_back(a.get<std::string>());
  if (row.contains("chosen_ref_logp") && row["chosen_ref_logp"].is_number())
    p.chosen_ref_logp = row["chosen_ref_logp"].get<double>();
  if (!p.prompt.empty() && p.prompt.find("<image>") == std::string::npos)
    throw std::runtime_error(where + ": the raw prompt holds no <image> marker");
  return p;
}

}  // namespace

std::vector<PreferencePair> read_pairs(const std::string& path) {
  std::vector<PreferencePair> out;
  std::string text = io::read_file(path);
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '[') {  // the official form: one JSON array
    auto all = io::read_json(path);
    for (size_t i = 0; i < all.size(); ++i) out.push_back(parse_row(all[i], path + ": item " + std::to_string(i)));
    return out;
  }
  io::for_each_jsonl(path, [&](const nlohmann::json& row, size_t line) {
    out.push_back(parse_row(row, path + ":" + std::to_string(line)));
  });
  return out;
}

nlohmann::json pair_json(const PreferencePair& p) {
  return {{"id", p.id},
          {"image", p.image},
          {"question", p.question},
          {"chosen", p.chosen},
          {"rejected", p.rejected},
          {"augs", p.augs},
          {"chosen_ref_logp", p.chosen_ref_logp.value_or(0.0)}};
}

nlohmann::json official_json(const PreferencePair& p) {
  return {{"chosen", p.chosen}, {"reject", p.rejected.at(0)}, {"question", p.question}, {"image_id", p.image}};
}

void write_pairs(const std::vector<PreferencePair>& pairs, const std::string& path, const std::string& format) {
  std::string text;
  if (format == "seva") {
    for (const auto& p : pairs) text += pair_json(p).dump() + "\n";
  } else if (format == "official") {
    text = "[";
    for (size_t i = 0; i < pairs.size(); ++i) text += (i ? ",\n " : "\n ") + official_json(pairs[i]).dump();
    text += pairs.empty() ? "]\n" : "\n]\n";
  } else {
    throw std::invalid_argument("--format '" + format + "' is not valid (seva, official)");
  }
  io::write_file_atomic(path, text);
}

PackedExample tokenize_pair(const text::Tokenizer& tok, const text::ChatTemplate& chat, const PreferencePair& pair) {
  PackedExample ex;
  bool templated = pair.prompt.empty();
  std::string prompt = templated ? chat.prompt(pair.question) : pair.prompt;
  ex.prompt_ids = tok.encode(prompt);
  // The answer ends with its end-of-turn token: EOS for llava_v1, <|im_end|> for ChatML.
  const int64_t end = chat.format == text::ChatTemplate::Format::ChatML ? tok.token_to_id(chat.answer_end_token()) : tok.eos_id();
  if (end < 0) throw std::runtime_error(pair.source + ": the tokenizer has no " + chat.answer_end_token() + " token");
  std::vector<std::string> answers{pair.chosen};
  answers.insert(answers.end(), pair.rejected.begin(), pair.rejected.end());
  for (const auto& a : answers) {
    auto full = tok.encode(prompt + (templated ? chat.answer_lead() : "") + a);
    if (full.size() < ex.prompt_ids.size() || !std::equal(ex.prompt_ids.begin(), ex.prompt_ids.end(), full.begin()))
      throw std::runtime_error(pair.source + ": the prompt's tokens are not a prefix of prompt + answer's tokens");
    std::vector<int64_t> ids(full.begin() + static_cast<long>(ex.prompt_ids.size()), full.end());
    ids.push_back(end);
    ex.answers.push_back(ids);
  }
  return ex;
}

}  // namespace seva::train
