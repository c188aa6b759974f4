// BPE merging exactly as tokenizers' Word::merge_all: a priority queue of adjacent pairs, lowest
// rank first and leftmost among equal ranks, entries made stale by earlier merges skipped.
#include "text/bpe_model.h"

#include <queue>
#include <stdexcept>

#include "text/json_fields.h"
#include "text/unicode.h"

namespace seva::text {
namespace {

constexpr size_t kCacheCapacity = 10000;  // tokenizers' DEFAULT_CACHE_CAPACITY

uint64_t pair_key(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

struct Candidate {
  int32_t rank;
  size_t pos;
  int32_t result;
  // std::priority_queue pops the greatest: make that the lowest rank, then the lowest position.
  bool operator<(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
};

struct Symbol {
  int32_t id;
  long prev, next;  // neighbours still alive, -1 at the ends
  bool alive;
};

}  // namespace

BpeModel::BpeModel(BpeModelSpec spec, const std::string& where)
    : tokens_(std::move(spec.vocab)), ignore_merges_(spec.ignore_merges), unk_id_(spec.unk_id),
      fuse_unk_(spec.fuse_unk) {
  vocab_.reserve(tokens_.size());
  for (size_t i = 0; i < tokens_.size(); ++i) vocab_.emplace(tokens_[i], static_cast<int32_t>(i));
  merges_.reserve(spec.merges.size());
  for (size_t rank = 0; rank < spec.merges.size(); ++rank) {
    const auto& [left, right] = spec.merges[rank];
    const std::string joined = left + right;
    const auto l = vocab_.find(left), r = vocab_.find(right), j = vocab_.find(joined);
    if (l == vocab_.end() || r == vocab_.end() || j == vocab_.end()) {
      const std::string& missing = l == vocab_.end() ? left : r == vocab_.end() ? right : joined;
      throw std::runtime_error(where + "[" + std::to_string(rank) + "]: " + jsonf::quoted(missing) +
                               " is not in model.vocab");
    }
    // A pair listed twice keeps its last rank, as tokenizers' map collected from the list does.
    merges_[pair_key(l->second, r->second)] = {static_cast<int32_t>(rank), j->second};
  }
}

int64_t BpeModel::token_to_id(std::string_view token) const {
  auto it = vocab_.find(std::string(token));
  return it == vocab_.end() ? -1 : it->second;
}

const std::string& BpeModel::id_to_token(int64_t id) const { return tokens_.at(static_cast<size_t>(id)); }

const BpeModel::MergeInfo* BpeModel::find_merge(int32_t left, int32_t right) const {
  auto it = merges_.find(pair_key(left, right));
  return it == merges_.end() ? nullptr : &it->second;
}

// One symbol per character; characters outside the vocabulary become unk (fused when asked) or,
// with no unk token, are dropped, as tokenizers does.
std::vector<int32_t> BpeModel::initial_symbols(std::string_view word) const {
  std::vector<int32_t> ids;
  bool last_unk = false;
  for (size_t pos = 0; pos < word.size();) {
    const size_t len = unicode::decode_at(word, pos).length;
    auto it = vocab_.find(std::string(word.substr(pos, len)));
    pos += len;
    if (it != vocab_.end()) {
      ids.push_back(it->second);
      last_unk = false;
    } else if (unk_id_ >= 0 && !(fuse_unk_ && last_unk)) {
      ids.push_back(static_cast<int32_t>(unk_id_));
      last_unk = true;
    }
  }
  return ids;
}

std::vector<int32_t> BpeModel::merge_word(std::string_view word) const {
  const std::vector<int32_t> ids = initial_symbols(word);
  std::vector<Symbol> sym(ids.size());
  std::priority_queue<Candidate> queue;
  for (size_t i = 0; i < ids.size(); ++i) {
    sym[i] = {ids[i], static_cast<long>(i) - 1, i + 1 < ids.size() ? static_cast<long>(i + 1) : -1, true};
    if (i + 1 < ids.size())
      if (const MergeInfo* m = find_merge(ids[i], ids[i + 1])) queue.push({m->rank, i, m->result});
  }
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& cur = sym[top.pos];
    if (!cur.alive || cur.next < 0) continue;
    Symbol& right = sym[static_cast<size_t>(cur.next)];
    const MergeInfo* m = find_merge(cur.id, right.id);
    if (!m || m->result != top.result) continue;  // a neighbour changed since this was queued
    cur.id = top.result;
    right.alive = false;
    cur.next = right.next;
    if (cur.next >= 0) sym[static_cast<size_t>(cur.next)].prev = static_cast<long>(top.pos);
    if (cur.prev >= 0) {
      const size_t p = static_cast<size_t>(cur.prev);
      if (const MergeInfo* pm = find_merge(sym[p].id, cur.id)) queue.push({pm->rank, p, pm->result});
    }
    if (cur.next >= 0)
      if (const MergeInfo* nm = find_merge(cur.id, sym[static_cast<size_t>(cur.next)].id))
        queue.push({nm->rank, top.pos, nm->result});
  }
  std::vector<int32_t> out;
  for (const Symbol& s : sym)
    if (s.alive) out.push_back(s.id);
  return out;
}

void BpeModel::tokenize(std::string_view word, std::vector<int64_t>& ids) const {
  if (word.empty()) return;
  std::string key(word);
  if (ignore_merges_)
    if (auto it = vocab_.find(key); it != vocab_.end()) {
      ids.push_back(it->second);
      return;
    }
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (auto it = cache_.find(key); it != cache_.end()) {
      ids.insert(ids.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int32_t> merged = merge_word(word);
  ids.insert(ids.end(), merged.begin(), merged.end());
  std::lock_guard<std::mutex> lock(cache_mutex_);
  if (cache_.size() < kCacheCapacity) cache_.emplace(std::move(key), std::move(merged));
}

}  // namespace seva::text
