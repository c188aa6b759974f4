#include "train/sft_data.h"

#include "io/files.h"
#include "io/jsonl.h"
#include "util/strings.h"

#include <nlohmann/json.hpp>

#include <stdexcept>

namespace seva::train {
namespace {

// LLaVA's preprocess_multimodal: the marker is removed and put first, "<image>\nQ".
std::string image_first(const std::string& q) {
  std::string s = q;
  for (size_t at; (at = s.find("<image>")) != std::string::npos;) s.erase(at, 7);
  return "<image>\n" + util::strip(s);
}

std::string text_field(const nlohmann::json& o, const char* key, const std::string& where) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_string()) throw std::runtime_error(where + ": field '" + key + "' must be a string");
  return it->get<std::string>();
}

// Returns false for a text-only entry (skipped).
bool parse_entry(const nlohmann::json& e, const std::string& where, SftExample& ex) {
  if (!e.is_object()) throw std::runtime_error(where + ": an entry must be a JSON object");
  ex.source = where;
  auto id = e.find("id");
  ex.id = id == e.end() ? "" : id->is_string() ? id->get<std::string>() : id->dump();
  auto img = e.find("image");
  if (img == e.end() || img->is_null()) return false;
  if (!img->is_string()) throw std::runtime_error(where + ": field 'image' must be a string");
  ex.image = img->get<std::string>();
  auto conv = e.find("conversations");
  if (conv == e.end() || !conv->is_array() || conv->empty())
    throw std::runtime_error(where + ": field 'conversations' must be a non-empty list");
  if (conv->size() % 2 != 0)
    throw std::runtime_error(where + ": 'conversations' must alternate human and gpt turns (odd count)");
  for (size_t t = 0; t < conv->size(); t += 2) {
    const auto& h = (*conv)[t];
    const auto& g = (*conv)[t + 1];
    std::string tw = where + ": turn " + std::to_string(t);
    if (!h.is_object() || !g.is_object()) throw std::runtime_error(tw + ": a turn must be a JSON object");
    if (text_field(h, "from", tw) != "human")
      throw std::runtime_error(tw + ": expected a 'human' turn");
    std::string gw = where + ": turn " + std::to_string(t + 1);
    if (text_field(g, "from", gw) != "gpt") throw std::runtime_error(gw + ": expected a 'gpt' turn");
    std::string q = text_field(h, "value", tw);
    if (t == 0) q = image_first(q);
    else if (q.find("<image>") != std::string::npos)
      throw std::runtime_error(tw + ": only the first question may hold <image>");
    ex.turns.emplace_back(q, text_field(g, "value", gw));
  }
  return true;
}

}  // namespace

std::vector<SftExample> read_sft_data(const std::string& path, int64_t* skipped) {
  std::vector<SftExample> out;
  int64_t skip = 0;
  auto take = [&](const nlohmann::json& e, const std::string& where) {
    SftExample ex;
    if (parse_entry(e, where, ex)) out.push_back(std::move(ex));
    else ++skip;
  };
  std::string text = io::read_file(path);
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '[') {
    nlohmann::json all;
    try {
      all = io::parse_json(text);
    } catch (const std::exception& e) {
      throw std::runtime_error(path + ": malformed JSON: " + e.what());
    }
    for (size_t i = 0; i < all.size(); ++i) {
      std::string where = path + ": entry " + std::to_string(i);
      if (all[i].is_object() && all[i].contains("id") && all[i]["id"].is_string())
        where += " (id " + all[i]["id"].get<std::string>() + ")";
      take(all[i], where);
    }
  } else {
    io::for_each_jsonl(path, [&](const nlohmann::json& row, size_t line) { take(row, path + ":" + std::to_string(line)); });
  }
  if (skipped) *skipped = skip;
  return out;
}

}  // namespace seva::train
