// Tokenizer against the fixture's tokenization.json (HF slow LlamaTokenizer, legacy=false).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "test_helpers.h"
#include "text/tokenizer.h"

using seva::text::Tokenizer;
using nlohmann::json;

namespace {

json reference() {
  std::ifstream in(seva::test::fixture_path("tokenization.json"));
  return json::parse(in);
}

void check_all_cases(const Tokenizer& tok, const json& ref) {
  ASSERT_EQ(ref["cases"].size(), 12u);
  for (const auto& c : ref["cases"]) {
    const std::string text = c["text"];
    SCOPED_TRACE("text: " + text);
    const auto ids = c["input_ids"].get<std::vector<int64_t>>();
    EXPECT_EQ(tok.encode(text), ids);
    EXPECT_EQ(tok.encode(text, false), c["input_ids_no_special"].get<std::vector<int64_t>>());
    const auto tokens = c["tokens"].get<std::vector<std::string>>();
    EXPECT_EQ(tok.convert_ids_to_tokens(ids), tokens);
    EXPECT_EQ(tok.tokenize(text), std::vector<std::string>(tokens.begin() + 1, tokens.end()));
    EXPECT_EQ(tok.decode(ids), c["decode"].get<std::string>());
    EXPECT_EQ(tok.decode(ids, true), c["decode_skip_special"].get<std::string>());
  }
}

void check_batch(const Tokenizer& tok, const json& ref) {
  std::vector<std::string> texts;
  for (int i = 0; i < 3; ++i) texts.push_back(ref["cases"][i]["text"]);
  const auto batch = tok.batch_encode_left_padded(texts);
  const auto& want = ref["batch_left_padded_first3"];
  EXPECT_EQ(batch.input_ids, want["input_ids"].get<std::vector<std::vector<int64_t>>>());
  EXPECT_EQ(batch.attention_mask, want["attention_mask"].get<std::vector<std::vector<int64_t>>>());
}

void check_ids(const Tokenizer& tok, const json& ref) {
  EXPECT_EQ(tok.size(), ref["len_tokenizer"].get<int64_t>());
  EXPECT_EQ(tok.sp_size(), ref["sp_vocab_size"].get<int64_t>());
  const auto& s = ref["special"];
  EXPECT_EQ(tok.unk_id(), s["unk"].get<int64_t>());
  EXPECT_EQ(tok.bos_id(), s["bos"].get<int64_t>());
  EXPECT_EQ(tok.eos_id(), s["eos"].get<int64_t>());
  EXPECT_EQ(tok.pad_id(), s["pad"].get<int64_t>());
  EXPECT_EQ(tok.image_token_id(), s["image"].get<int64_t>());
  EXPECT_EQ(tok.id_to_piece(512), "<image>");
  EXPECT_EQ(tok.piece_to_id("<pad>"), 513);
  EXPECT_EQ(tok.id_to_piece(13), "<0x0A>");
  EXPECT_EQ(tok.piece_to_id("\xe2\x96\x81" "human"), 416);
  EXPECT_EQ(tok.piece_to_id("no-such-piece"), 0);
  EXPECT_FALSE(tok.legacy());
  EXPECT_THROW(tok.id_to_piece(514), std::out_of_range);
}

}  // namespace

TEST(TextTokenizer, FixtureCasesTokenizerDir) {
  const json ref = reference();
  const Tokenizer tok = Tokenizer::load(seva::test::fixture_path("tokenizer"));
  check_all_cases(tok, ref);
  check_batch(tok, ref);
  check_ids(tok, ref);
}

TEST(TextTokenizer, FixtureCasesModelDir) {
  const json ref = reference();
  const Tokenizer tok = Tokenizer::load(seva::test::fixture_path("model_A"));
  check_all_cases(tok, ref);
  check_batch(tok, ref);
  check_ids(tok, ref);
}

TEST(TextTokenizer, PromptTokensAroundImage) {
  const Tokenizer tok = Tokenizer::load(seva::test::fixture_path("tokenizer"));
  const auto ids = tok.encode("USER: <image>\nWhat");
  // ... '▁USER', ':', '▁', '<image>', '<0x0A>', 'W', 'hat'
  const std::vector<std::string> want = {"<s>", "\xe2\x96\x81USER", ":", "\xe2\x96\x81", "<image>", "<0x0A>", "W", "hat"};
  EXPECT_EQ(tok.convert_ids_to_tokens(ids), want);
  EXPECT_EQ(tok.decode(ids), "<s> USER:  <image> \nWhat");
}
