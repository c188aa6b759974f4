// The parts of the byte-level BPE tokenizer on their own: the pre-tokenizer matchers on tricky
// cases, UTF-8 and Unicode classes, the byte-level alphabet, the merge loop, added-token splitting.
#include <gtest/gtest.h>

#include "text/added_tokens.h"
#include "text/bpe_model.h"
#include "text/byte_level.h"
#include "text/pretokenize.h"
#include "text/unicode.h"

using namespace seva::text;

namespace {

using Pieces = std::vector<std::string>;

Pieces cut(const std::string& text, SplitPattern p) {
  Pieces out;
  for (std::string_view s : split_isolated(text, p)) out.emplace_back(s);
  return out;
}

}  // namespace

TEST(TextBpePretokenize, SpacesBeforeText) {
  for (SplitPattern p : {SplitPattern::kGpt2, SplitPattern::kQwen2, SplitPattern::kLlama3}) {
    EXPECT_EQ(cut("a  b", p), (Pieces{"a", " ", " b"}));
    EXPECT_EQ(cut("a   ", p), (Pieces{"a", "   "}));  // at the end (?!\S) holds
    EXPECT_EQ(cut("", p), Pieces{});
    // Qwen2's letters take one leading non-letter (a tab too); GPT-2's only a space.
    EXPECT_EQ(cut("x\t\ty", p), p == SplitPattern::kGpt2 ? (Pieces{"x", "\t", "\t", "y"}) : (Pieces{"x", "\t", "\ty"}));
  }
}

TEST(TextBpePretokenize, Qwen2Newlines) {
  const auto q = SplitPattern::kQwen2;
  EXPECT_EQ(cut(" \n", q), Pieces{" \n"});                  // \s*[\r\n]+
  EXPECT_EQ(cut("\n\n  \n", q), Pieces{"\n\n  \n"});
  EXPECT_EQ(cut("\n\n  \n  x", q), (Pieces{"\n\n  \n", " ", " x"}));  // up to the last newline
  EXPECT_EQ(cut("  !!!\n\n", q), (Pieces{" ", " !!!\n\n"}));  // punctuation takes its newlines
  EXPECT_EQ(cut("a\r\nb", q), (Pieces{"a", "\r\n", "b"}));
  EXPECT_EQ(cut("\nword", q), (Pieces{"\n", "word"}));       // no newline as a letter prefix
  EXPECT_EQ(cut(" \n", SplitPattern::kGpt2), Pieces{" \n"});
}

TEST(TextBpePretokenize, Contractions) {
  EXPECT_EQ(cut("'S", SplitPattern::kQwen2), Pieces{"'S"});
  EXPECT_EQ(cut("'S", SplitPattern::kGpt2), (Pieces{"'", "S"}));
  EXPECT_EQ(cut("I'LL", SplitPattern::kQwen2), (Pieces{"I", "'LL"}));
  EXPECT_EQ(cut("I'LL", SplitPattern::kGpt2), (Pieces{"I", "'", "LL"}));
  EXPECT_EQ(cut("'\xC5\xBFx", SplitPattern::kQwen2), (Pieces{"'\xC5\xBF", "x"}));  // (?i) 's matches U+017F
  EXPECT_EQ(cut("'rex", SplitPattern::kQwen2), (Pieces{"'re", "x"}));
  EXPECT_EQ(cut("'r", SplitPattern::kQwen2), Pieces{"'r"});  // [^...]?\p{L}+ instead
  EXPECT_EQ(cut("don't", SplitPattern::kGpt2), (Pieces{"don", "'t"}));
}

TEST(TextBpePretokenize, Digits) {
  EXPECT_EQ(cut("12345", SplitPattern::kQwen2), (Pieces{"1", "2", "3", "4", "5"}));
  EXPECT_EQ(cut("12345", SplitPattern::kLlama3), (Pieces{"123", "45"}));
  EXPECT_EQ(cut("x 12345", SplitPattern::kGpt2), (Pieces{"x", " 12345"}));
  EXPECT_EQ(cut(" 1", SplitPattern::kQwen2), (Pieces{" ", "1"}));  // no space prefix for numbers
  EXPECT_EQ(cut("\xD9\xA3\xC2\xB2", SplitPattern::kQwen2), (Pieces{"\xD9\xA3", "\xC2\xB2"}));  // Nd, No
}

TEST(TextBpePretokenize, LettersAndPunctuation) {
  EXPECT_EQ(cut("Hello, world!", SplitPattern::kQwen2), (Pieces{"Hello", ",", " world", "!"}));
  EXPECT_EQ(cut("(x)", SplitPattern::kQwen2), (Pieces{"(x", ")"}));  // one non-letter prefix
  EXPECT_EQ(cut("e\xCC\x81", SplitPattern::kQwen2), (Pieces{"e", "\xCC\x81"}));  // a mark is no letter
  EXPECT_EQ(cut("\xC2\xA0word", SplitPattern::kQwen2), Pieces{"\xC2\xA0word"});
  EXPECT_EQ(cut("\xC2\xA0word", SplitPattern::kGpt2), (Pieces{"\xC2\xA0", "word"}));  // U+00A0 is \s
  EXPECT_EQ(cut("x\xE2\x80\x8B!", SplitPattern::kGpt2), (Pieces{"x", "\xE2\x80\x8B!"}));  // U+200B is not
}

TEST(TextBpePretokenize, InvalidBytesAreOtherCharacters) {
  EXPECT_EQ(cut("a\xFF\xFE b", SplitPattern::kGpt2), (Pieces{"a", "\xFF\xFE", " b"}));
  EXPECT_EQ(cut("\xFFword", SplitPattern::kQwen2), Pieces{"\xFFword"});
  EXPECT_EQ(cut("\xE2\x82", SplitPattern::kQwen2), Pieces{"\xE2\x82"});
}

TEST(TextBpePretokenize, RecognisesOnlyKnownPatterns) {
  for (SplitPattern p : {SplitPattern::kGpt2, SplitPattern::kQwen2, SplitPattern::kLlama3})
    EXPECT_EQ(recognise_split_pattern(split_pattern_regex(p)), p);
  EXPECT_FALSE(recognise_split_pattern("\\s+"));
  EXPECT_FALSE(recognise_split_pattern(split_pattern_regex(SplitPattern::kQwen2) + "|x"));
}

TEST(TextBpeUnicode, ClassesAndNfc) {
  using unicode::Char;
  EXPECT_TRUE(unicode::is_whitespace(Char{0x85}));
  EXPECT_TRUE(unicode::is_whitespace(Char{0x3000}));
  EXPECT_FALSE(unicode::is_whitespace(Char{0x1C}));
  EXPECT_FALSE(unicode::is_whitespace(Char{0xFEFF}));
  EXPECT_TRUE(unicode::is_letter(Char{0x1C5}));   // Lt
  EXPECT_TRUE(unicode::is_letter(Char{0x4E00}));  // Lo
  EXPECT_TRUE(unicode::is_number(Char{0x2167}));  // Nl
  EXPECT_FALSE(unicode::is_letter(Char{0x301}));  // Mn
  EXPECT_FALSE(unicode::is_letter(Char{'a', 1, false}));
  EXPECT_EQ(unicode::nfc("e\xCC\x81"), "\xC3\xA9");
  EXPECT_EQ(unicode::nfc("\xE2\x84\xAB"), "\xC3\x85");         // U+212B -> U+00C5
  EXPECT_EQ(unicode::nfc("e\xFF\xCC\x81"), "e\xFF\xCC\x81");  // an invalid byte stops composition
}

TEST(TextBpeUnicode, LossyUtf8ReplacesMaximalSubparts) {
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(unicode::utf8_lossy("ok \xC3\xA9"), "ok \xC3\xA9");
  EXPECT_EQ(unicode::utf8_lossy("\xE2\x82" "A"), r + "A");   // truncated sequence: one U+FFFD
  EXPECT_EQ(unicode::utf8_lossy("\xF0\x80"), r + r);          // overlong: each byte
  EXPECT_EQ(unicode::utf8_lossy("\xED\xA0\x80"), r + r + r);  // surrogate: each byte
  EXPECT_EQ(unicode::utf8_lossy("\xF4\x90\x80\x80"), r + r + r + r);  // above U+10FFFF
  EXPECT_EQ(unicode::utf8_lossy("\xF0\x9F\x98"), r);
  EXPECT_EQ(unicode::utf8_lossy("\xC0\xAF"), r + r);
}

TEST(TextBpeByteLevel, AlphabetRoundTrips) {
  EXPECT_EQ(to_byte_level(" "), "\xC4\xA0");  // Ġ
  EXPECT_EQ(to_byte_level("\n"), "\xC4\x8A");  // Ċ
  EXPECT_EQ(to_byte_level("a!~"), "a!~");
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  std::string back;
  append_byte_level_decoded(to_byte_level(all), back);
  EXPECT_EQ(back, all);
  std::string kept;
  append_byte_level_decoded("has space", kept);  // ' ' is outside the alphabet: kept as it is
  EXPECT_EQ(kept, "has space");
}

TEST(TextBpeModel, MergesByRankThenLeftmost) {
  BpeModelSpec spec;
  spec.vocab = {"a", "b", "aa", "ab", "aab"};
  spec.merges = {{"a", "b"}, {"a", "a"}, {"a", "ab"}};
  BpeModel m(spec, "test");
  std::vector<int64_t> ids;
  m.tokenize("aaa", ids);  // (a,a) at 0 first: aa a
  EXPECT_EQ(ids, (std::vector<int64_t>{2, 0}));
  ids.clear();
  m.tokenize("aab", ids);  // (a,b) ranks first: a ab, then (a,ab): aab
  EXPECT_EQ(ids, (std::vector<int64_t>{4}));
  ids.clear();
  m.tokenize("axb", ids);  // x is unknown and there is no unk: dropped, and a b then merge
  EXPECT_EQ(ids, (std::vector<int64_t>{3}));
  ids.clear();
  m.tokenize("aaa", ids);  // from the cache now
  EXPECT_EQ(ids, (std::vector<int64_t>{2, 0}));
}

TEST(TextBpeModel, UnkAndIgnoreMerges) {
  BpeModelSpec spec;
  spec.vocab = {"<unk>", "a", "b", "ab", "ba"};
  spec.merges = {{"a", "b"}};
  spec.unk_id = 0;
  spec.fuse_unk = true;
  BpeModel fused(spec, "test");
  std::vector<int64_t> ids;
  fused.tokenize("axyb", ids);
  EXPECT_EQ(ids, (std::vector<int64_t>{1, 0, 2}));
  spec.fuse_unk = false;
  spec.ignore_merges = true;
  BpeModel plain(spec, "test");
  ids.clear();
  plain.tokenize("xy", ids);
  EXPECT_EQ(ids, (std::vector<int64_t>{0, 0}));
  ids.clear();
  plain.tokenize("ba", ids);  // in the vocabulary: one token though no merge makes it
  EXPECT_EQ(ids, (std::vector<int64_t>{4}));
}

TEST(TextBpeModel, RefusesMergesOutsideTheVocabulary) {
  BpeModelSpec spec;
  spec.vocab = {"a", "b"};
  spec.merges = {{"a", "b"}};
  try {
    BpeModel m(spec, "tok.json: model.merges");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "tok.json: model.merges[0]: \"ab\" is not in model.vocab");
  }
}

TEST(TextBpeAddedTokens, StripAndSingleWord) {
  AddedTokenMatcher m;
  AddedToken mask;
  mask.lstrip = mask.rstrip = true;
  m.add(7, mask, "<mask>");
  AddedToken word;
  word.single_word = true;
  m.add(8, word, "[w]");
  AddedToken longer;
  m.add(9, longer, "<mask>x");
  std::vector<TextPiece> out;
  m.split("a <mask>  b [w] c[w] <mask>x", false, out);
  ASSERT_EQ(out.size(), 6u);
  EXPECT_EQ(out[0].text, "a");
  EXPECT_EQ(out[1].id, 7);
  EXPECT_EQ(out[1].text, " <mask>  ");
  EXPECT_EQ(out[2].text, "b ");
  EXPECT_EQ(out[3].id, 8);
  EXPECT_EQ(out[4].text, " c[w] ");  // [w] after a letter is no single word
  EXPECT_EQ(out[5].id, 9);           // the longest match wins
}

TEST(TextBpeAddedTokens, SkipSpecial) {
  AddedTokenMatcher m;
  AddedToken special;
  special.special = true;
  m.add(3, special, "<s>");
  std::vector<TextPiece> out;
  m.split("x<s>y", true, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].text, "x<s>y");
}
