#include "util/rng.h"

#include "util/strings.h"

#include <cmath>
#include <numeric>
#include <stdexcept>

namespace seva::util {
namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

uint64_t hash_key(uint64_t seed, std::string_view a, std::string_view b) {
  uint64_t h = fnv1a(a, kFnv1aOffsetBasis ^ splitmix64(seed));
  h = fnv1a(b, h ^ 0xff);  // a separator so ("ab", "c") and ("a", "bc") differ
  return splitmix64(h ^ (a.size() << 32) ^ b.size());
}

double Rng::uniform() { return static_cast<double>(gen_() >> 11) * (1.0 / 9007199254740992.0); }

double Rng::uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

int64_t Rng::randint(int64_t lo, int64_t hi) {
  if (hi <= lo) throw std::invalid_argument("randint: empty range");
  const uint64_t n = static_cast<uint64_t>(hi - lo);
  // Rejection sampling: no modulo bias.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do x = gen_();
  while (x >= limit);
  return lo + static_cast<int64_t>(x % n);
}

bool Rng::bernoulli(double p) { return uniform() < p; }

double Rng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u1;
  do u1 = uniform();
  while (u1 <= 0.0);
  const double u2 = uniform();
  const double r = std::sqrt(-2.0 * std::log(u1));
  spare_ = r * std::sin(2.0 * M_PI * u2);
  has_spare_ = true;
  return r * std::cos(2.0 * M_PI * u2);
}

std::vector<size_t> Rng::permutation(size_t n) { return sample(n, n); }

std::vector<size_t> Rng::sample(size_t n, size_t k) {
  if (k > n) throw std::invalid_argument("sample: k > n");
  std::vector<size_t> idx(n);
  std::iota(idx.begin(), idx.end(), size_t{0});
  for (size_t i = 0; i < k; ++i) std::swap(idx[i], idx[static_cast<size_t>(randint(static_cast<int64_t>(i), static_cast<int64_t>(n)))]);
  idx.resize(k);
  return idx;
}

}  // namespace seva::util
