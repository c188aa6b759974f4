// The BPE model of Hugging Face tokenizers (models::bpe): a vocabulary, merges ranked by their
// order, and the word-by-word merge loop with its cache.
#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace seva::text {

struct BpeModelSpec {
  std::vector<std::string> vocab;                           // the token of each id 0..n-1
  std::vector<std::pair<std::string, std::string>> merges;  // best (rank 0) first
  bool ignore_merges = false;  // a word that is itself in the vocabulary is one token
  int64_t unk_id = -1;         // for characters not in the vocabulary; -1: they are dropped
  bool fuse_unk = false;       // consecutive unknown characters make one unk token
};

class BpeModel {
 public:
  // `where` prefixes error messages ("PATH: model.merges"). Throws std::runtime_error for a merge
  // whose parts or result are not in the vocabulary.
  BpeModel(BpeModelSpec spec, const std::string& where);
  BpeModel(const BpeModel&) = delete;
  BpeModel& operator=(const BpeModel&) = delete;

  // The ids of one pre-tokenized word (already in the byte-level alphabet), appended to `ids`.
  void tokenize(std::string_view word, std::vector<int64_t>& ids) const;
  int64_t token_to_id(std::string_view token) const;  // -1 when absent
  const std::string& id_to_token(int64_t id) const;   // id in [0, size())
  int64_t size() const { return static_cast<int64_t>(tokens_.size()); }

 private:
  struct MergeInfo {
    int32_t rank;
    int32_t result;
  };
  std::vector<int32_t> initial_symbols(std::string_view word) const;
  std::vector<int32_t> merge_word(std::string_view word) const;
  const MergeInfo* find_merge(int32_t left, int32_t right) const;

  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int32_t> vocab_;
  std::unordered_map<uint64_t, MergeInfo> merges_;  // key: left id << 32 | right id
  bool ignore_merges_;
  int64_t unk_id_;
  bool fuse_unk_;
  // Words seen before: the merge loop is the costly part and text repeats words. Bounded like
  // tokenizers' cache: once full, new words are no longer remembered.
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace seva::text
