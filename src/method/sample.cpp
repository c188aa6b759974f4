#include "method/sample.h"

#include "io/files.h"
#include "io/jsonl.h"
#include "util/rng.h"
#include "util/strings.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <stdexcept>

namespace seva::method {
namespace {

using nlohmann::json;

struct Entry {
  std::string id, image;
  std::vector<std::pair<int, std::string>> questions;  // (human turn index, text)
};

std::string id_string(const json& id) { return id.is_string() ? id.get<std::string>() : id.dump(); }

}  // namespace

std::string remove_image_marker(const std::string& question) {
  std::string q = util::replace_all(question, "<image>\n", "");
  q = util::replace_all(std::move(q), "\n<image>", "");
  q = util::replace_all(std::move(q), "<image>", "");
  return util::strip(q);  // the ASCII whitespace " \t\n\r\v\f"
}

std::vector<Question> sample_questions(const SampleOptions& opts, SampleStats* stats_out) {
  if (opts.per_image < 1) throw std::invalid_argument("--per-image must be at least 1");
  if (opts.count < 0) throw std::invalid_argument("--count must not be negative");
  SampleStats st;
  std::vector<Entry> kept;
  const std::string& path = opts.instructions;

  auto handle = [&](const json& e) {
    ++st.read;
    if (!e.is_object()) throw std::runtime_error(path + ": entry " + std::to_string(st.read) + " is not a JSON object");
    auto img = e.find("image");
    if (img == e.end() || !img->is_string() || img->get<std::string>().empty()) {
      ++st.no_image;
      return;
    }
    Entry en;
    en.image = img->get<std::string>();
    en.id = e.contains("id") ? id_string(e["id"]) : std::to_string(st.read - 1);
    if (!opts.sources.empty()) {
      bool ok = false;
      for (const auto& s : opts.sources) ok = ok || util::starts_with(en.image, s);
      if (!ok) {
        ++st.other_source;
        return;
      }
    }
    auto conv = e.find("conversations");
    if (conv != e.end() && conv->is_array()) {
      int turn = 0;
      for (const auto& c : *conv) {
        if (!c.is_object() || c.value("from", "") != "human") continue;
        const int this_turn = turn++;
        auto v = c.find("value");
        if (v == c.end() || !v->is_string()) continue;
        std::string q = remove_image_marker(v->get<std::string>());
        if (!q.empty()) en.questions.emplace_back(this_turn, std::move(q));
      }
    }
    if (en.questions.empty()) {
      ++st.no_question;
      return;
    }
    kept.push_back(std::move(en));
  };

  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  bool top_checked = false;
  json::parser_callback_t cb = [&](int depth, json::parse_event_t event, json& parsed) {
    // An entry's values are copied and printed (errors), both recursive: nesting is bounded as
    // io::parse_json bounds it.
    if (depth > io::kMaxJsonDepth)
      throw std::runtime_error(path + ": JSON nested deeper than " + std::to_string(io::kMaxJsonDepth) + " levels");
    if (!top_checked) {
      top_checked = true;
      if (depth != 0 || event != json::parse_event_t::array_start)
        throw std::runtime_error(path + ": expected a JSON array of entries (LLaVA-665k form)");
    }
    if (depth == 1 && event == json::parse_event_t::object_end) {
      handle(parsed);
      return false;  // processed: do not keep it in memory
    }
    if (depth == 1 && event == json::parse_event_t::value) {
      handle(parsed);  // a non-object element: refused with its position
      return false;
    }
    return true;
  };
  try {
    json empty = json::parse(in, cb);  // the entries went to the callback; nothing is kept
    (void)empty;
  } catch (const json::parse_error& e) {
    throw std::runtime_error(path + ": malformed JSON: " + e.what());
  }
  st.kept = static_cast<int64_t>(kept.size());

  util::Rng rng(util::hash_key(opts.seed, "sample"));
  const size_t n = opts.count == 0 ? kept.size() : std::min<size_t>(kept.size(), static_cast<size_t>(opts.count));
  std::vector<Question> out;
  for (size_t i : rng.sample(kept.size(), n)) {
    const auto& en = kept[i];
    const size_t k = std::min<size_t>(en.questions.size(), static_cast<size_t>(opts.per_image));
    for (size_t q : rng.sample(en.questions.size(), k))
      out.push_back({en.id + "_" + std::to_string(en.questions[q].first), en.image, en.questions[q].second});
  }
  st.sampled = static_cast<int64_t>(n);
  st.written = static_cast<int64_t>(out.size());
  if (stats_out) *stats_out = st;
  return out;
}

SampleStats run_sample(const SampleOptions& opts) {
  SampleStats st;
  auto qs = sample_questions(opts, &st);
  std::string text;
  for (const auto& q : qs) text += json{{"id", q.id}, {"image", q.image}, {"text", q.text}}.dump() + "\n";
  io::write_file_atomic(opts.out, text);
  return st;
}

}  // namespace seva::method
