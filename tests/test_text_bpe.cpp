// The byte-level BPE tokenizer (tokenizer.json) against Hugging Face: tests/data/qwen-bpe holds two
// small trained tokenizers (Qwen2-configured and GPT-2-style) and golden.json, what tokenizers and
// transformers give for a corpus of strings (see make_fixture.py there).
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "test_helpers.h"
#include "text/byte_level.h"
#include "text/pretokenize.h"
#include "text/tokenizer.h"
#include "text/tokenizer_files.h"
#include "text/unicode.h"

using namespace seva::text;
using nlohmann::json;

namespace {

std::string fixture_dir(const std::string& name) { return seva::test::data_path("qwen-bpe/" + name); }

const json& golden() {
  static const json g = json::parse(read_binary_file(seva::test::data_path("qwen-bpe/golden.json")));
  return g;
}

std::vector<int64_t> ids_of(const json& v) { return v.get<std::vector<int64_t>>(); }

// What the fixture's pre-tokenizer makes of normalized text, in the byte-level alphabet.
std::vector<std::string> pretokens(const std::string& text, const std::vector<SplitPattern>& patterns) {
  std::vector<std::string> pieces{text};
  for (SplitPattern p : patterns) {
    std::vector<std::string> next;
    for (const auto& s : pieces)
      for (std::string_view cut : split_isolated(s, p)) next.emplace_back(cut);
    pieces = std::move(next);
  }
  for (auto& s : pieces) s = to_byte_level(s);
  return pieces;
}

void expect_matches_golden(const std::string& name, const Tokenizer& tok) {
  const json& g = golden()[name];
  EXPECT_EQ(tok.size(), g["len"].get<int64_t>());
  EXPECT_EQ(tok.sp_size(), g["vocab_size"].get<int64_t>());
  EXPECT_EQ(tok.bos_id(), g["bos_id"].is_null() ? -1 : g["bos_id"].get<int64_t>());
  EXPECT_EQ(tok.eos_id(), g["eos_id"].get<int64_t>());
  EXPECT_EQ(tok.pad_id(), g["pad_id"].get<int64_t>());
  EXPECT_EQ(tok.unk_id(), -1);
  for (int64_t id : ids_of(g["all_special_ids"])) EXPECT_TRUE(tok.is_special_id(id)) << id;
  for (const auto& [token, id] : g["token_to_id"].items()) {
    EXPECT_EQ(tok.token_to_id(token), id.get<int64_t>()) << token;
    EXPECT_EQ(tok.piece_to_id(token), id.get<int64_t>()) << token;
  }
  for (const auto& c : g["cases"]) {
    const std::string text = c["text"];
    EXPECT_EQ(tok.encode(text), ids_of(c["ids"])) << name << ": " << text;
    EXPECT_EQ(tok.encode(text, false), ids_of(c["ids_plain"])) << name << ": " << text;
    EXPECT_EQ(tok.tokenize(text), c["tokens"].get<std::vector<std::string>>()) << name << ": " << text;
    EXPECT_EQ(tok.decode(ids_of(c["ids"])), c["decoded"].get<std::string>()) << name << ": " << text;
    EXPECT_EQ(tok.decode(ids_of(c["ids"]), true), c["decoded_skip"].get<std::string>()) << name << ": " << text;
  }
}

}  // namespace

TEST(TextBpeTokenizer, Qwen2MatchesHuggingFace) {
  expect_matches_golden("qwen2", Tokenizer::load(fixture_dir("qwen2")));
}

TEST(TextBpeTokenizer, Gpt2StyleMatchesHuggingFace) {
  expect_matches_golden("gpt2", Tokenizer::load(fixture_dir("gpt2")));
}

TEST(TextBpeTokenizer, PreTokenizersMatchHuggingFace) {
  for (const auto& c : golden()["qwen2"]["cases"]) {
    const std::string normalized = unicode::nfc(c["text"].get<std::string>());
    EXPECT_EQ(pretokens(normalized, {SplitPattern::kQwen2}), c["pretokens"].get<std::vector<std::string>>())
        << c["text"];
    EXPECT_EQ(pretokens(normalized, {SplitPattern::kLlama3}), c["llama3_pretokens"].get<std::vector<std::string>>())
        << c["text"];
  }
  for (const auto& c : golden()["gpt2"]["cases"])
    EXPECT_EQ(pretokens(c["text"], {SplitPattern::kGpt2}), c["pretokens"].get<std::vector<std::string>>())
        << c["text"];
}

TEST(TextBpeTokenizer, Qwen2SpecialTokenIds) {
  const Tokenizer tok = Tokenizer::load(fixture_dir("qwen2"));
  const json& g = golden()["qwen2"];
  EXPECT_EQ(tok.token_to_id("<|image_pad|>"), g["token_to_id"]["<|image_pad|>"].get<int64_t>());
  EXPECT_EQ(tok.token_to_id("<|vision_start|>"), g["token_to_id"]["<|vision_start|>"].get<int64_t>());
  EXPECT_EQ(tok.eos_id(), tok.token_to_id("<|im_end|>"));
  EXPECT_EQ(tok.pad_id(), tok.token_to_id("<|endoftext|>"));
  EXPECT_EQ(tok.image_token_id(), -1);  // Qwen2 has no "<image>"
  EXPECT_EQ(tok.token_to_id("no such token"), -1);
  EXPECT_EQ(tok.piece_to_id("no such token"), -1);  // no unk token
  EXPECT_FALSE(tok.is_special_id(tok.token_to_id("<tool_call>")));
  EXPECT_EQ(tok.id_to_piece(tok.token_to_id("<|im_start|>")), "<|im_start|>");
  EXPECT_THROW(tok.id_to_piece(tok.size() + 5), std::out_of_range);
  EXPECT_THROW(tok.id_to_piece(-1), std::out_of_range);
}

TEST(TextBpeTokenizer, BatchIsLeftPaddedWithPadId) {
  const Tokenizer tok = Tokenizer::load(fixture_dir("qwen2"));
  const json& b = golden()["qwen2"]["batch"];
  const EncodedBatch batch = tok.batch_encode_left_padded(b["texts"].get<std::vector<std::string>>());
  EXPECT_EQ(batch.input_ids, b["input_ids"].get<std::vector<std::vector<int64_t>>>());
  EXPECT_EQ(batch.attention_mask, b["attention_mask"].get<std::vector<std::vector<int64_t>>>());
}

TEST(TextBpeTokenizer, DecodeDropsUnknownIdsAndRepairsUtf8) {
  const Tokenizer tok = Tokenizer::load(fixture_dir("qwen2"));
  const json& d = golden()["qwen2"]["decode_ids"];
  EXPECT_EQ(tok.decode({1000000, 200, 201}), d["unknown_and_bytes"].get<std::string>());
  EXPECT_EQ(tok.decode({tok.token_to_id("\xC4\xA2")}), d["lone_continuation"].get<std::string>());
  EXPECT_EQ(tok.decode({-7}), "");
  // convert_ids_to_tokens skips all_special_ids, the config's special tokens.
  const std::vector<int64_t> ids = tok.encode("<|im_start|>hi<tool_call>");
  const auto tokens = tok.convert_ids_to_tokens(ids, true);
  EXPECT_EQ(tokens.front(), "h");
  EXPECT_EQ(tokens.back(), "<tool_call>");
}

// Input bytes that are not UTF-8 (HF's Python API cannot receive them): each invalid byte is a
// character of its own, so encoding never fails and its bytes reach the byte-level tokens; decode
// shows each ill-formed sequence as U+FFFD, as Python's bytes.decode(errors="replace") would.
TEST(TextBpeTokenizer, InvalidUtf8InputIsKeptByteByByte) {
  const Tokenizer tok = Tokenizer::load(fixture_dir("qwen2"));
  const std::string text = "a\xFF b\xC3(\xE2\x82 \xED\xA0\x80z\xF0\x9F\x98";
  const std::vector<int64_t> ids = tok.encode(text);
  std::string bytes;
  for (const auto& t : tok.convert_ids_to_tokens(ids)) append_byte_level_decoded(t, bytes);
  EXPECT_EQ(bytes, text);
  EXPECT_EQ(tok.decode(ids), unicode::utf8_lossy(text));
  EXPECT_EQ(tok.decode(ids), "a\xEF\xBF\xBD b\xEF\xBF\xBD(\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDz\xEF\xBF\xBD");
}

TEST(TextBpeTokenizer, LegacyStringMergesGiveTheSameIds) {
  const std::string dir = seva::test::temp_dir("bpe_legacy_merges");
  json j = json::parse(read_binary_file(fixture_dir("qwen2") + "/tokenizer.json"));
  json merges = json::array();
  for (const auto& m : j["model"]["merges"]) merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
  j["model"]["merges"] = merges;
  std::ofstream(dir + "/tokenizer.json") << j.dump();
  std::ofstream(dir + "/tokenizer_config.json") << read_binary_file(fixture_dir("qwen2") + "/tokenizer_config.json");
  const Tokenizer legacy = Tokenizer::load(dir);
  const Tokenizer tok = Tokenizer::load(fixture_dir("qwen2"));
  for (const auto& c : golden()["qwen2"]["cases"]) EXPECT_EQ(legacy.encode(c["text"]), ids_of(c["ids"])) << c["text"];
  EXPECT_EQ(legacy.size(), tok.size());
}

TEST(TextBpeTokenizer, SplitSpecialTokensTokenizesThemAsText) {
  const std::string dir = seva::test::temp_dir("bpe_split_special");
  json cfg = json::parse(read_binary_file(fixture_dir("qwen2") + "/tokenizer_config.json"));
  cfg["split_special_tokens"] = true;
  std::ofstream(dir + "/tokenizer_config.json") << cfg.dump();
  std::ofstream(dir + "/tokenizer.json") << read_binary_file(fixture_dir("qwen2") + "/tokenizer.json");
  const Tokenizer tok = Tokenizer::load(dir);
  const auto ids = tok.encode("<|im_end|><tool_call>");
  EXPECT_GT(ids.size(), 2u);
  EXPECT_EQ(ids.back(), tok.token_to_id("<tool_call>"));  // not special: still matched
  EXPECT_EQ(tok.decode(ids), "<|im_end|><tool_call>");
}

TEST(TextBpeTokenizer, CopiesShareTheBackend) {
  const Tokenizer tok = Tokenizer::load(fixture_dir("qwen2"));
  const Tokenizer copy = tok;
  EXPECT_EQ(copy.encode("Hello world"), tok.encode("Hello world"));
}

// A second reference: the tiny Qwen2-VL / Qwen2.5-VL checkpoints' tokenizers, with the ids that
// transformers 4.57 gave (tests/data/qwen2-vl-tiny/tokenization.json).
TEST(TextBpeTokenizer, Qwen2VlTinyCheckpointsMatchTransformers4) {
  const std::string ref_path = seva::test::data_path("qwen2-vl-tiny/tokenization.json");
  if (!file_exists(ref_path)) GTEST_SKIP() << "no " << ref_path;
  const json ref = json::parse(read_binary_file(ref_path));
  for (const char* name : {"qwen2-vl", "qwen2.5-vl"}) {
    const Tokenizer tok = Tokenizer::load(seva::test::data_path(std::string("qwen2-vl-tiny/") + name));
    EXPECT_EQ(tok.size(), ref["len_tokenizer"].get<int64_t>()) << name;
    EXPECT_EQ(tok.eos_id(), ref["eos_token_id"].get<int64_t>()) << name;
    EXPECT_EQ(tok.pad_id(), ref["pad_token_id"].get<int64_t>()) << name;
    EXPECT_EQ(tok.bos_id(), -1) << name;
    for (const auto& [token, id] : ref["special_tokens"].items()) EXPECT_EQ(tok.token_to_id(token), id.get<int64_t>());
    for (const auto& c : ref["cases"]) {
      const std::string text = c["text"];
      EXPECT_EQ(tok.encode(text), ids_of(c["input_ids"])) << name << ": " << text;
      EXPECT_EQ(tok.tokenize(text), c["tokens"].get<std::vector<std::string>>()) << name << ": " << text;
      EXPECT_EQ(tok.decode(ids_of(c["input_ids"])), c["decode"].get<std::string>()) << name << ": " << text;
      EXPECT_EQ(tok.decode(ids_of(c["input_ids"]), true), c["decode_skip_special"].get<std::string>()) << name;
    }
  }
}
