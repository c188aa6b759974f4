// The random streams of the SeVa pipeline: a small RNG (mt19937_64 with portable helpers, so the
// same seed gives the same numbers with any standard library) and keyed seeds, so every item's
// randomness depends only on (seed, item id, what is being drawn), never on batch or thread.
#pragma once
#include <cstdint>
#include <random>
#include <string_view>
#include <vector>

namespace seva::util {

// A well-mixed 64-bit key of (seed, a, b): FNV-1a over the strings, then splitmix64 finalisation.
uint64_t hash_key(uint64_t seed, std::string_view a, std::string_view b = {});

class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}
  uint64_t next() { return gen_(); }
  double uniform();                          // [0, 1), 53 random bits
  double uniform(double lo, double hi);      // [lo, hi)
  int64_t randint(int64_t lo, int64_t hi);   // [lo, hi), hi > lo
  bool bernoulli(double p);                  // true with probability p
  double normal();                           // N(0, 1), Box–Muller
  std::vector<size_t> permutation(size_t n); // uniform random order of 0..n-1 (Fisher–Yates)
  // k distinct indices of 0..n-1 in random order (k <= n), as Python's random.sample.
  std::vector<size_t> sample(size_t n, size_t k);

 private:
  std::mt19937_64 gen_;
  bool has_spare_ = false;
  double spare_ = 0;
};

}  // namespace seva::util
