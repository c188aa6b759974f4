// util/: the string helpers' exact semantics and the portable RNG's numbers, pinned: the synthetic
// world, the sampled questions and the augmentations are all drawn from these streams.
#include <gtest/gtest.h>

#include <cmath>

#include "util/rng.h"
#include "util/strings.h"

using namespace seva;

TEST(Util, PrefixAndSuffix) {
  EXPECT_TRUE(util::starts_with("model.layers.0", "model."));
  EXPECT_TRUE(util::starts_with("abc", ""));
  EXPECT_FALSE(util::starts_with("ab", "abc"));
  EXPECT_FALSE(util::starts_with("xabc", "abc"));
  EXPECT_TRUE(util::ends_with("q_proj.bias", ".bias"));
  EXPECT_TRUE(util::ends_with("abc", ""));
  EXPECT_FALSE(util::ends_with("bc", "abc"));
  EXPECT_FALSE(util::ends_with("abcx", "abc"));
  EXPECT_TRUE(util::starts_with(std::string("a\0b", 3), std::string("a\0", 2)));  // bytes, not C strings
}

TEST(Util, StripIsPythonsAsciiWhitespaceOrTheGivenSet) {
  EXPECT_EQ(util::strip(" \t\n\r\v\fa b\f\v\r\n\t "), "a b");
  EXPECT_EQ(util::strip(" \t\n"), "");
  EXPECT_EQ(util::strip(""), "");
  EXPECT_EQ(util::strip("\xc2\xa0x"), "\xc2\xa0x");  // U+00A0 is not ASCII whitespace
  EXPECT_EQ(util::lstrip("  a  "), "a  ");
  EXPECT_EQ(util::rstrip("  a  "), "  a");
  EXPECT_EQ(util::lstrip("\v\f"), "");
  EXPECT_EQ(util::rstrip("\v\f"), "");
  // A narrower set keeps the other whitespace (the augmentation spec parser strips " \t" only).
  EXPECT_EQ(util::strip("\t crop \n ", " \t"), "crop \n");
}

TEST(Util, ReplaceAllNeverRescansTheReplacement) {
  EXPECT_EQ(util::replace_all("aaa", "a", "aa"), "aaaaaa");
  EXPECT_EQ(util::replace_all("<image>\n<image>x", "<image>", ""), "\nx");
  EXPECT_EQ(util::replace_all("abab", "ab", "b"), "bb");
  EXPECT_EQ(util::replace_all("xyz", "q", "r"), "xyz");
}

TEST(Util, AsciiLowerTouchesOnlyAToZ) {
  EXPECT_EQ(util::ascii_lower("AbC-Z@[\xc3\x89"), "abc-z@[\xc3\x89");
}

TEST(Util, Fnv1aKnownValues) {
  EXPECT_EQ(util::fnv1a(""), 14695981039346656037ULL);  // the offset basis
  EXPECT_EQ(util::fnv1a("", util::kFnv1aShortBasis), 1469598103934665603ULL);
  EXPECT_EQ(util::fnv1a("a"), 0xaf63dc4c8601ec8cULL);   // the published FNV-1a 64 test vector
  EXPECT_EQ(util::fnv1a("foobar"), 0x85944171f73967e8ULL);
  EXPECT_EQ(util::fnv1a("bar", util::fnv1a("foo")), util::fnv1a("foobar"));  // continues a state
}

TEST(Util, RngNumbersArePinned) {
  // Any change here changes every synthetic world, sample and augmentation drawn by seva.
  EXPECT_EQ(util::hash_key(7, "scene/train", "3"), 0x6a9ad4d3066051e8ULL);
  EXPECT_EQ(util::hash_key(0, "sample"), 0x1732b7afe193bdb1ULL);
  EXPECT_NE(util::hash_key(1, "ab", "c"), util::hash_key(1, "a", "bc"));
  util::Rng r(42);
  EXPECT_EQ(r.next(), 0xc151df7d6ee5e2d6ULL);
  EXPECT_EQ(r.randint(0, 1000), 824);
  EXPECT_EQ(r.uniform(), 0.7521452007480266);
  EXPECT_NEAR(r.normal(), 1.6390009625516795, 1e-12);  // sin/cos/log of the platform's libm
  EXPECT_EQ(r.permutation(6), (std::vector<size_t>{2, 0, 1, 4, 5, 3}));
  EXPECT_EQ(r.sample(10, 3), (std::vector<size_t>{2, 1, 8}));
  EXPECT_THROW(r.randint(3, 3), std::invalid_argument);
  EXPECT_THROW(r.sample(2, 3), std::invalid_argument);
}
