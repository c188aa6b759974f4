// Tokenizer loading: model checks, the add_dummy_prefix patch, added and special tokens, vocab size.
#include "text/tokenizer.h"

#include <algorithm>
#include <stdexcept>
#include <unordered_set>

#include "text/bpe_tokenizer.h"
#include "text/spm_proto.h"

namespace seva::text {
namespace {

// transformers' SPECIAL_TOKENS_ATTRIBUTES order (the order missing ones are added in).
const char* const kSpecialOrder[] = {"bos_token", "eos_token", "unk_token", "sep_token",
                                     "pad_token", "cls_token", "mask_token"};

}  // namespace

Tokenizer Tokenizer::load(const std::string& dir) {
  // tokenizer.model wins where both exist, so such directories load as they always have.
  if (!file_exists(dir + "/tokenizer.model") && file_exists(dir + "/tokenizer.json")) return load_bpe(dir);
  Tokenizer t;
  t.settings_ = read_tokenizer_settings(dir);
  const std::string& path = t.settings_.model_path;
  std::string proto = read_binary_file(path);
  const SpProtoInfo info = inspect_sp_proto(proto, path);
  if (info.model_type != SpModelType::kBpe && info.model_type != SpModelType::kUnigram)
    throw std::runtime_error(path + ": sentencepiece model type " + sp_model_type_name(info.model_type) +
                             " is not supported (only BPE or UNIGRAM)");
  // legacy=false: transformers loads the model with the normaliser's dummy prefix turned off.
  if (!t.settings_.legacy) proto = with_add_dummy_prefix_off(proto, path);
  t.sp_ = SpModel::from_serialized(proto, path);
  t.sp_size_ = t.sp_.size();

  t.added_decoder_ = t.settings_.added_tokens;
  for (const auto& [id, tok] : t.added_decoder_) t.added_encoder_[tok.content] = id;

  std::vector<std::string> specials;
  for (const char* key : kSpecialOrder)
    if (auto it = t.settings_.special.find(key); it != t.settings_.special.end()) specials.push_back(it->second);
  for (const auto& s : t.settings_.additional_special) specials.push_back(s);

  // Vocabulary as get_vocab() sees it: pieces (or the added token at that id), then added tokens.
  std::unordered_set<std::string> vocab;
  for (int64_t i = 0; i < t.sp_size_; ++i) vocab.insert(t.id_to_piece(i));
  for (const auto& [content, id] : t.added_encoder_) vocab.insert(content);
  // Special tokens not yet added are added as transformers does: the piece's id if the model has
  // the piece, else the next free id.
  for (const auto& s : specials) {
    if (t.added_encoder_.count(s)) continue;
    const int sp_id = t.sp_.piece_to_id(s);
    const bool in_sp = t.sp_.id_to_piece(sp_id) == s;
    const int64_t id = in_sp ? sp_id : static_cast<int64_t>(vocab.size());
    AddedToken tok;
    tok.content = s;
    tok.special = true;
    t.added_decoder_[id] = tok;
    t.added_encoder_[s] = id;
    vocab.insert(s);
  }
  t.size_ = static_cast<int64_t>(vocab.size());

  t.special_tokens_.insert(specials.begin(), specials.end());
  for (const auto& s : specials) t.special_ids_.insert(t.piece_to_id(s));
  for (const auto& [content, id] : t.added_encoder_) {
    t.added_longest_first_.push_back(content);
    if (!t.special_tokens_.count(content)) t.legacy_added_tokens_.insert(content);
  }
  for (const auto& s : t.settings_.additional_special)
    if (t.piece_to_id(s) >= t.sp_size_) t.legacy_added_tokens_.insert(s);
  std::stable_sort(t.added_longest_first_.begin(), t.added_longest_first_.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });

  // str(None) is what transformers would prepend if there were no unk token.
  auto unk = t.settings_.special.find("unk_token");
  t.unk_token_ = unk != t.settings_.special.end() ? unk->second : "None";
  t.unk_token_length_ = t.sp_.encode(t.unk_token_).size();

  t.bos_id_ = t.special_id("bos_token");
  t.eos_id_ = t.special_id("eos_token");
  t.pad_id_ = t.special_id("pad_token");
  t.unk_id_ = t.special_id("unk_token");
  if (auto it = t.added_encoder_.find("<image>"); it != t.added_encoder_.end())
    t.image_id_ = it->second;
  else if (int id = t.sp_.piece_to_id("<image>"); t.sp_.id_to_piece(id) == "<image>")
    t.image_id_ = id;
  return t;
}

int64_t Tokenizer::special_id(const char* key) const {
  auto it = settings_.special.find(key);
  return it == settings_.special.end() ? -1 : piece_to_id(it->second);
}

int64_t Tokenizer::piece_to_id(const std::string& piece) const {
  if (bpe_) {
    const int64_t id = bpe_->token_to_id(piece);
    return id >= 0 ? id : unk_id_;
  }
  if (auto it = added_encoder_.find(piece); it != added_encoder_.end()) return it->second;
  return sp_.piece_to_id(piece);
}

int64_t Tokenizer::token_to_id(const std::string& token) const {
  if (bpe_) return bpe_->token_to_id(token);
  if (auto it = added_encoder_.find(token); it != added_encoder_.end()) return it->second;
  const int id = sp_.piece_to_id(token);  // sentencepiece answers unk for a piece it lacks
  return sp_.id_to_piece(id) == token ? id : -1;
}

std::string Tokenizer::id_to_piece(int64_t id) const {
  if (bpe_) return bpe_->id_to_token(id);
  if (auto it = added_decoder_.find(id); it != added_decoder_.end()) return it->second.content;
  if (id < 0 || id >= sp_size_)
    throw std::out_of_range("token id " + std::to_string(id) + " is outside the vocabulary (" +
                            std::to_string(size_) + " tokens)");
  return sp_.id_to_piece(static_cast<int>(id));
}

}  // namespace seva::text
