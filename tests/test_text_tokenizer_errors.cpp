// Tokenizer refusals: missing files named, files that are not sentencepiece models, the proto patch.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "test_helpers.h"
#include "text/sp_model.h"
#include "text/spm_proto.h"
#include "text/tokenizer.h"
#include "text/tokenizer_files.h"

using namespace seva::text;

namespace {

void write(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

std::string fixture_file(const std::string& name) {
  return read_binary_file(seva::test::fixture_path("tokenizer/" + name));
}

std::string error_of(const std::string& dir) {
  try {
    Tokenizer::load(dir);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(TextTokenizerErrors, MissingModelNamesPath) {
  const std::string dir = seva::test::temp_dir("tok_missing");
  write(dir + "/tokenizer_config.json", fixture_file("tokenizer_config.json"));
  const std::string err = error_of(dir);
  EXPECT_NE(err.find(dir + "/tokenizer.model"), std::string::npos) << err;
}

TEST(TextTokenizerErrors, MissingConfigNamesPath) {
  const std::string dir = seva::test::temp_dir("tok_noconfig");
  write(dir + "/tokenizer.model", fixture_file("tokenizer.model"));
  const std::string err = error_of(dir);
  EXPECT_NE(err.find(dir + "/tokenizer_config.json"), std::string::npos) << err;
}

TEST(TextTokenizerErrors, RefusesNonSentencepieceModel) {
  const std::string dir = seva::test::temp_dir("tok_tiktoken");
  write(dir + "/tokenizer_config.json", fixture_file("tokenizer_config.json"));
  write(dir + "/tokenizer.model", "IQ== 0\nIg== 1\nIw== 2\n");  // a tiktoken-style file
  const std::string err = error_of(dir);
  EXPECT_NE(err.find("not a sentencepiece model"), std::string::npos) << err;
  EXPECT_NE(err.find(dir + "/tokenizer.model"), std::string::npos) << err;
}

TEST(TextTokenizerErrors, AddDummyPrefixPatch) {
  const std::string proto = fixture_file("tokenizer.model");
  const SpProtoInfo info = inspect_sp_proto(proto, "fixture");
  EXPECT_EQ(info.model_type, SpModelType::kBpe);
  EXPECT_EQ(info.num_pieces, 512u);
  const std::string patched = with_add_dummy_prefix_off(proto, "fixture");
  EXPECT_EQ(inspect_sp_proto(patched, "patched").num_pieces, 512u);
  const SpModel plain = SpModel::from_serialized(proto, "plain");
  const SpModel off = SpModel::from_serialized(patched, "patched");
  EXPECT_EQ(plain.encode("The").front().piece, "\xe2\x96\x81The");
  EXPECT_EQ(off.encode("The").front().piece, "T");
  EXPECT_EQ(off.encode(" The").front().piece, "\xe2\x96\x81The");
  // Without a normaliser spec one is added.
  EXPECT_EQ(with_add_dummy_prefix_off(std::string("\x0a\x00", 2), "x"), std::string("\x0a\x00\x1a\x02\x18\x00", 6));
}

TEST(TextTokenizerErrors, AddedTokenIdsOutOfRangeAreRefused) {
  auto config = nlohmann::json::parse(fixture_file("tokenizer_config.json"));
  config.erase("added_tokens_decoder");
  // A uint64 id past int64's range would wrap to a negative one.
  const std::string dir = seva::test::temp_dir("tok_added_ids");
  write(dir + "/tokenizer.model", fixture_file("tokenizer.model"));
  write(dir + "/tokenizer_config.json", config.dump());
  write(dir + "/added_tokens.json", "{\"<x>\": 18446744073709551615}");
  std::string err = error_of(dir);
  EXPECT_NE(err.find(dir + "/added_tokens.json: id of '<x>' is not a token id"), std::string::npos) << err;
  write(dir + "/added_tokens.json", "{\"<x>\": -3}");
  err = error_of(dir);
  EXPECT_NE(err.find("is not a token id"), std::string::npos) << err;

  for (const char* key : {"-5", "99999999999999999999", "7x"}) {
    config["added_tokens_decoder"] = {{key, {{"content", "<y>"}}}};
    write(dir + "/tokenizer_config.json", config.dump());
    err = error_of(dir);
    EXPECT_NE(err.find(std::string("added_tokens_decoder key '") + key + "' is not a token id"), std::string::npos) << err;
  }
}
