// Crafted tokenizer.json files are refused with one line naming the file and the field, never a
// crash: each case edits the Qwen2 fixture's tokenizer.json and loads it.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "test_helpers.h"
#include "text/tokenizer.h"
#include "text/tokenizer_files.h"

using namespace seva::text;
using nlohmann::json;

namespace {

std::string fixture_file(const std::string& name) {
  return read_binary_file(seva::test::data_path("qwen-bpe/qwen2/" + name));
}

struct Loaded {
  std::string dir;
  std::string error;  // empty when it loaded
};

Loaded load_text(const std::string& tokenizer_json) {
  Loaded r{seva::test::temp_dir("bpe_err"), ""};
  std::ofstream(r.dir + "/tokenizer.json", std::ios::binary) << tokenizer_json;
  std::ofstream(r.dir + "/tokenizer_config.json") << fixture_file("tokenizer_config.json");
  try {
    Tokenizer::load(r.dir);
  } catch (const std::exception& e) {
    r.error = e.what();
  }
  return r;
}

Loaded load_edited(const std::function<void(json&)>& edit) {
  json j = json::parse(fixture_file("tokenizer.json"));
  edit(j);
  return load_text(j.dump());
}

// The error names <dir>/tokenizer.json and `field`, and is one line.
void expect_refused(const Loaded& r, const std::string& field, const std::string& what = "") {
  ASSERT_FALSE(r.error.empty()) << "loaded though it should not: " << field;
  EXPECT_NE(r.error.find(r.dir + "/tokenizer.json"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find(field), std::string::npos) << r.error;
  EXPECT_NE(r.error.find(what), std::string::npos) << r.error;
  EXPECT_EQ(r.error.find('\n'), std::string::npos) << r.error;
}

}  // namespace

TEST(TextBpeErrors, MalformedJson) {
  expect_refused(load_text("{\"model\": "), "", "malformed JSON");
  expect_refused(load_text(""), "", "malformed JSON");
  expect_refused(load_text("[1, 2]"), "", "expected an object");
  // Deep nesting must not overflow the stack.
  expect_refused(load_text(std::string(200000, '[') + std::string(200000, ']')), "", "nested deeper than 256 levels");
}

TEST(TextBpeErrors, WrongTypes) {
  expect_refused(load_edited([](json& j) { j["model"] = 5; }), "model", "expected an object");
  expect_refused(load_edited([](json& j) { j["model"]["vocab"] = json::array(); }), "model.vocab", "object");
  expect_refused(load_edited([](json& j) { j["model"]["vocab"]["a"] = "0"; }), "model.vocab.\"a\"", "integer");
  expect_refused(load_edited([](json& j) { j["model"]["merges"] = "a b"; }), "model.merges", "array");
  expect_refused(load_edited([](json& j) { j["model"]["merges"][3] = 7; }), "model.merges[3]", "[left, right]");
  expect_refused(load_edited([](json& j) { j["model"]["merges"][3] = json::array({"a"}); }), "model.merges[3]");
  expect_refused(load_edited([](json& j) { j["model"]["merges"][2] = "ab"; }), "model.merges[2]", "space");
  expect_refused(load_edited([](json& j) { j["added_tokens"][0]["content"] = 1; }), "added_tokens[0].content");
  expect_refused(load_edited([](json& j) { j["added_tokens"][1]["special"] = "yes"; }), "added_tokens[1].special");
  expect_refused(load_edited([](json& j) { j["model"].erase("vocab"); }), "model.vocab", "missing");
}

TEST(TextBpeErrors, BadIds) {
  expect_refused(load_edited([](json& j) { j["model"]["vocab"]["a"] = j["model"]["vocab"]["b"]; }),
                 "model.vocab", "given to two tokens");
  expect_refused(load_edited([](json& j) { j["model"]["vocab"]["a"] = 100000; }), "model.vocab.\"a\"", "out of range");
  expect_refused(load_edited([](json& j) { j["model"]["vocab"]["a"] = -1; }), "model.vocab.\"a\"", "out of range");
  expect_refused(load_edited([](json& j) { j["model"]["vocab"]["a"] = 18446744073709551615ull; }), "model.vocab", "out of range");
  expect_refused(load_edited([](json& j) { j["added_tokens"][0]["id"] = 1 << 30; }), "added_tokens[0].id", "out of range");
  expect_refused(load_edited([](json& j) { j["added_tokens"][1]["id"] = j["added_tokens"][0]["id"]; }),
                 "added_tokens[1].id", "two added tokens");
}

TEST(TextBpeErrors, MergeNamingAnUnknownToken) {
  expect_refused(load_edited([](json& j) { j["model"]["merges"][5] = json::array({"zz\nq", "a"}); }),
                 "model.merges[5]", "\"zz\\nq\" is not in model.vocab");
}

TEST(TextBpeErrors, UnsupportedComponents) {
  expect_refused(load_edited([](json& j) { j["model"]["type"] = "WordPiece"; }), "model.type", "WordPiece");
  expect_refused(load_edited([](json& j) { j["model"]["byte_fallback"] = true; }), "model.byte_fallback");
  expect_refused(load_edited([](json& j) { j["model"]["dropout"] = 0.1; }), "model.dropout");
  expect_refused(load_edited([](json& j) { j["model"]["continuing_subword_prefix"] = "##"; }),
                 "model.continuing_subword_prefix");
  expect_refused(load_edited([](json& j) { j["normalizer"] = {{"type", "Lowercase"}}; }), "normalizer", "Lowercase");
  expect_refused(load_edited([](json& j) { j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "\\w+"; }),
                 "pre_tokenizer.pretokenizers[0].pattern.Regex", "\"\\\\w+\"");
  expect_refused(load_edited([](json& j) { j["pre_tokenizer"]["pretokenizers"][0]["behavior"] = "Removed"; }),
                 "pre_tokenizer.pretokenizers[0].behavior", "Removed");
  expect_refused(load_edited([](json& j) { j["pre_tokenizer"]["pretokenizers"].erase(1); }), "pre_tokenizer",
                 "ByteLevel");
  expect_refused(load_edited([](json& j) { j["pre_tokenizer"] = {{"type", "Whitespace"}}; }), "pre_tokenizer.type",
                 "Whitespace");
  expect_refused(load_edited([](json& j) { j["decoder"] = {{"type", "WordPiece"}}; }), "decoder.type", "WordPiece");
  expect_refused(load_edited([](json& j) { j["decoder"] = nullptr; }), "decoder", "missing");
  expect_refused(load_edited([](json& j) { j["post_processor"] = {{"type", "BertProcessing"}}; }),
                 "post_processor.type", "BertProcessing");
  expect_refused(load_edited([](json& j) { j["truncation"] = {{"max_length", 4}}; }), "truncation");
}

TEST(TextBpeErrors, TemplateNamingAMissingSpecialToken) {
  expect_refused(load_edited([](json& j) {
                   j["post_processor"] = {{"type", "TemplateProcessing"},
                                          {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                                                      {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
                                          {"special_tokens", json::object()}};
                 }),
                 "post_processor.special_tokens.<s>", "missing");
}

TEST(TextBpeErrors, HugeFileIsRefusedUnread) {
  const std::string dir = seva::test::temp_dir("bpe_huge");
  std::ofstream(dir + "/tokenizer_config.json") << fixture_file("tokenizer_config.json");
  { std::ofstream(dir + "/tokenizer.json") << "{"; }
  ASSERT_EQ(::truncate((dir + "/tokenizer.json").c_str(), 600ll << 20), 0);  // sparse: no disk used
  try {
    Tokenizer::load(dir);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(dir + "/tokenizer.json: 629145600 bytes"), std::string::npos) << e.what();
  }
}

TEST(TextBpeErrors, MissingFilesNamed) {
  const std::string dir = seva::test::temp_dir("bpe_noconfig");
  std::ofstream(dir + "/tokenizer.json") << fixture_file("tokenizer.json");
  try {
    Tokenizer::load(dir);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(dir + "/tokenizer_config.json"), std::string::npos) << e.what();
  }
  const std::string empty = seva::test::temp_dir("bpe_empty");
  try {
    Tokenizer::load(empty);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(empty + "/tokenizer.model"), std::string::npos) << e.what();
  }
}
