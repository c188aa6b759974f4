// Tokenizer::load for a tokenizers directory (tokenizer.json + tokenizer_config.json): the BPE
// backend, then the special tokens and ids the common interface reports.
#include <memory>

#include "text/bpe_tokenizer.h"
#include "text/tokenizer.h"

namespace seva::text {
namespace {

// transformers' SPECIAL_TOKENS_ATTRIBUTES order.
const char* const kSpecialKeys[] = {"bos_token", "eos_token", "unk_token", "sep_token",
                                    "pad_token", "cls_token", "mask_token"};

}  // namespace

Tokenizer Tokenizer::load_bpe(const std::string& dir) {
  Tokenizer t;
  t.settings_ = read_fast_tokenizer_settings(dir);
  ByteLevelBpeSpec spec = read_tokenizer_json(t.settings_.json_path);

  // all_special_tokens: the named ones in attribute order, then additional_special_tokens.
  std::vector<std::string> specials;
  for (const char* key : kSpecialKeys)
    if (auto it = t.settings_.special.find(key); it != t.settings_.special.end()) specials.push_back(it->second);
  for (const auto& s : t.settings_.additional_special) specials.push_back(s);

  // What transformers adds at load when tokenizer.json lacks it: the config's added tokens in id
  // order, then the special tokens, marked special.
  std::vector<AddedToken> config_tokens;
  for (const auto& [id, tok] : t.settings_.added_tokens) config_tokens.push_back(tok);
  for (const auto& s : specials) {
    AddedToken tok;
    tok.content = s;
    tok.special = true;
    config_tokens.push_back(tok);
  }
  t.bpe_ = std::make_shared<const BpeTokenizer>(std::move(spec), config_tokens, t.settings_.split_special_tokens,
                                                t.settings_.json_path);
  t.size_ = t.bpe_->size();
  t.sp_size_ = t.bpe_->model_size();

  t.special_tokens_.insert(specials.begin(), specials.end());
  for (const auto& s : specials)
    if (const int64_t id = t.bpe_->token_to_id(s); id >= 0) t.special_ids_.insert(id);
  t.unk_id_ = t.special_id("unk_token");
  t.bos_id_ = t.special_id("bos_token");
  t.eos_id_ = t.special_id("eos_token");
  t.pad_id_ = t.special_id("pad_token");
  t.image_id_ = t.bpe_->token_to_id("<image>");
  return t;
}

}  // namespace seva::text
