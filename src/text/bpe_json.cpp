// tokenizer.json: the file, the BPE model (vocab, merges, options) and the added tokens; the
// normalizer, pre-tokenizer, decoder and post-processor are in bpe_json_pipeline.cpp.
#include "text/bpe_json.h"

namespace seva::text {
namespace {

using jsonf::At;
using jsonf::json;

// model.vocab: {token: id} with the ids 0..n-1 each exactly once, so ids index a dense table.
std::vector<std::string> read_vocab(const json& v, const At& at) {
  jsonf::object(v, at);
  const int64_t n = static_cast<int64_t>(v.size());
  std::vector<std::string> tokens(static_cast<size_t>(n));
  std::vector<bool> seen(static_cast<size_t>(n), false);
  for (const auto& [token, id_value] : v.items()) {
    const At here = at[jsonf::quoted(token)];
    const auto id = static_cast<size_t>(jsonf::integer(id_value, here, 0, n));
    if (seen[id]) here.fail("id " + std::to_string(id) + " is given to two tokens");
    seen[id] = true;
    tokens[id] = token;
  }
  return tokens;
}

// model.merges: "left right" strings (split at the first space, as tokenizers does) or, in
// newer files, [left, right] pairs.
std::vector<std::pair<std::string, std::string>> read_merges(const json& v, const At& at) {
  jsonf::array(v, at);
  std::vector<std::pair<std::string, std::string>> merges;
  merges.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const json& m = v[i];
    if (m.is_string()) {
      const std::string s = m.get<std::string>();
      const size_t space = s.find(' ');
      if (space == std::string::npos) at[i].fail(jsonf::quoted(s) + " is not two tokens separated by a space");
      merges.emplace_back(s.substr(0, space), s.substr(space + 1));
    } else if (m.is_array() && m.size() == 2) {
      merges.emplace_back(jsonf::string(m[0], at[i][0]), jsonf::string(m[1], at[i][1]));
    } else {
      at[i].fail("expected \"left right\" or [left, right]");
    }
  }
  return merges;
}

// Options other than byte-level BPE's are refused rather than ignored: each would change ids.
void read_model_options(const json& model, const At& at, BpeModelSpec& spec) {
  const std::string type = jsonf::string(jsonf::member(model, "type", at), at["type"]);
  if (type != "BPE") at["type"].fail("model type " + jsonf::quoted(type) + " is not supported (only BPE)");
  const json& dropout = jsonf::member(model, "dropout", at, true);
  if (!dropout.is_null() && !(dropout.is_number() && dropout.get<double>() == 0.0))
    at["dropout"].fail("BPE dropout is not supported (it makes tokenization random)");
  if (jsonf::flag(model, "byte_fallback", at, false)) at["byte_fallback"].fail("byte_fallback is not supported");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    const json& v = jsonf::member(model, key, at, true);
    if (!v.is_null() && !jsonf::string(v, at[key]).empty()) at[key].fail("a non-empty value is not supported");
  }
  spec.ignore_merges = jsonf::flag(model, "ignore_merges", at, false);
  spec.fuse_unk = jsonf::flag(model, "fuse_unk", at, false);
  const json& unk = jsonf::member(model, "unk_token", at, true);
  if (!unk.is_null()) {
    const std::string u = jsonf::string(unk, at["unk_token"]);
    for (size_t i = 0; i < spec.vocab.size(); ++i)
      if (spec.vocab[i] == u) spec.unk_id = static_cast<int64_t>(i);
    if (spec.unk_id < 0) at["unk_token"].fail(jsonf::quoted(u) + " is not in model.vocab");
  }
}

AddedTokenEntry read_added_token(const json& v, const At& at, int64_t id_limit) {
  jsonf::object(v, at);
  AddedTokenEntry e;
  e.id = jsonf::integer(jsonf::member(v, "id", at), at["id"], 0, id_limit);
  e.token.content = jsonf::string(jsonf::member(v, "content", at), at["content"]);
  if (e.token.content.empty()) at["content"].fail("an added token cannot be empty");
  e.token.single_word = jsonf::flag(v, "single_word", at, false);
  e.token.lstrip = jsonf::flag(v, "lstrip", at, false);
  e.token.rstrip = jsonf::flag(v, "rstrip", at, false);
  e.token.special = jsonf::flag(v, "special", at, false);
  e.token.normalized = jsonf::flag(v, "normalized", at, !e.token.special);  // tokenizers' default
  return e;
}

// Added token ids lie in the model's ids or just past them: 0 <= id < vocab + added tokens.
std::vector<AddedTokenEntry> read_added_tokens(const json& v, const At& at, int64_t vocab_size) {
  if (v.is_null()) return {};
  jsonf::array(v, at);
  const int64_t limit = vocab_size + static_cast<int64_t>(v.size());
  std::vector<AddedTokenEntry> out;
  std::vector<bool> seen(static_cast<size_t>(limit), false);
  for (size_t i = 0; i < v.size(); ++i) {
    out.push_back(read_added_token(v[i], at[i], limit));
    const auto id = static_cast<size_t>(out.back().id);
    if (seen[id]) at[i]["id"].fail("id " + std::to_string(id) + " is given to two added tokens");
    seen[id] = true;
  }
  return out;
}

}  // namespace

ByteLevelBpeSpec read_tokenizer_json(const std::string& path) {
  const json root = jsonf::read_file(path, kMaxTokenizerJsonBytes);
  const At at{path, ""};
  jsonf::object(root, at);
  for (const char* key : {"truncation", "padding"})
    if (!jsonf::member(root, key, at, true).is_null())
      at[key].fail("built-in truncation and padding are not supported (set them to null)");

  ByteLevelBpeSpec spec;
  const json& model = jsonf::object(jsonf::member(root, "model", at), at["model"]);
  spec.model.vocab = read_vocab(jsonf::member(model, "vocab", at["model"]), at["model"]["vocab"]);
  spec.model.merges = read_merges(jsonf::member(model, "merges", at["model"]), at["model"]["merges"]);
  read_model_options(model, at["model"], spec.model);
  const auto vocab_size = static_cast<int64_t>(spec.model.vocab.size());
  spec.added_tokens = read_added_tokens(jsonf::member(root, "added_tokens", at, true), at["added_tokens"], vocab_size);

  detail::read_normalizer(jsonf::member(root, "normalizer", at, true), at["normalizer"], spec);
  detail::read_pre_tokenizer(jsonf::member(root, "pre_tokenizer", at, true), at["pre_tokenizer"], spec);
  detail::read_decoder(jsonf::member(root, "decoder", at, true), at["decoder"]);
  const int64_t id_limit = vocab_size + static_cast<int64_t>(spec.added_tokens.size());
  detail::read_post_processor(jsonf::member(root, "post_processor", at, true), at["post_processor"], id_limit, spec);
  return spec;
}

}  // namespace seva::text
