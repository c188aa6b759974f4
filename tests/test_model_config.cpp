// config.json fields read from a file seva did not write: integer fields refuse numbers that do
// not fit instead of casting them (inputs found by fuzz/fuzz_model_config).
#include "io/files.h"
#include "model/config.h"
#include "model/generation_config.h"
#include "model/qwen2_vl_config.h"
#include "test_helpers.h"

#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

using namespace seva;

namespace {

nlohmann::json config_of(const std::string& rel) { return io::read_json(test::data_path(rel)); }

void expect_refused(const std::function<void()>& fn, const std::string& field) {
  try {
    fn();
    ADD_FAILURE() << "accepted a config whose '" << field << "' does not fit";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("'" + field + "'"), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(ModelConfigBadInput, IntegerFieldOutOfRangeIsRefusedNotCast) {
  // A float far outside int64 (undefined behaviour as a cast) and an unsigned above INT64_MAX
  // (which wrapped to -1, "no token").
  for (const auto& v : {nlohmann::json(7.77778e+126), nlohmann::json(18446744073709551615ull),
                        nlohmann::json(-1e19), nlohmann::json(1.5)}) {
    nlohmann::json llava = config_of("llava-tiny-a/model_A/config.json");
    llava["text_config"]["bos_token_id"] = v;
    expect_refused([&] { model::LlavaConfig::from_json(llava, "config.json"); }, "bos_token_id");

    nlohmann::json qwen = config_of("qwen2-vl-tiny/qwen2.5-vl/config.json");
    qwen["text_config"]["hidden_size"] = v;
    qwen["hidden_size"] = v;
    expect_refused([&] { model::Qwen2VLConfig::from_json(qwen, "config.json"); }, "hidden_size");
  }
}

TEST(ModelConfigBadInput, IntegralFloatStillReadsAsInteger) {
  nlohmann::json llava = config_of("llava-tiny-a/model_A/config.json");
  const int64_t bos = llava["text_config"].value("bos_token_id", int64_t{1});
  llava["text_config"]["bos_token_id"] = static_cast<double>(bos);
  EXPECT_EQ(model::LlavaConfig::from_json(llava, "config.json").text.bos_token_id, bos);
}

TEST(ModelConfigBadInput, ZeroHeadsWithMropeIsRefusedNotDividedBy) {
  // M-RoPE's check divides head size by num_attention_heads: it must see the sizes checked first.
  nlohmann::json qwen = config_of("qwen2-vl-tiny/qwen2.5-vl/config.json");
  qwen["text_config"]["num_attention_heads"] = 0;
  qwen["num_attention_heads"] = 0;
  qwen["text_config"].erase("head_dim");
  qwen.erase("head_dim");
  try {
    model::Qwen2VLConfig::from_json(qwen, "config.json");
    ADD_FAILURE() << "accepted zero attention heads";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("num_attention_heads"), std::string::npos) << e.what();
  }
}

TEST(ModelConfigBadInput, IntegerListElementOutOfRangeIsRefused) {
  nlohmann::json qwen = config_of("qwen2-vl-tiny/qwen2.5-vl/config.json");
  for (auto* j : {&qwen, &qwen["text_config"]})
    if (j->contains("rope_scaling")) (*j)["rope_scaling"]["mrope_section"] = {4.44444e+45, 1, 1};
  expect_refused([&] { model::Qwen2VLConfig::from_json(qwen, "config.json"); }, "mrope_section");
}

// generation_config.json: Instruct checkpoints stop at several tokens.
TEST(GenerationConfig, EosTokenIdIsOneIdOrAList) {
  using model::generation_eos_ids;
  EXPECT_EQ(generation_eos_ids(nlohmann::json::parse(R"({"eos_token_id": 151645})"), "g"), (std::vector<int64_t>{151645}));
  EXPECT_EQ(generation_eos_ids(nlohmann::json::parse(R"({"eos_token_id": [151645, 151643]})"), "g"),
            (std::vector<int64_t>{151645, 151643}));
  EXPECT_TRUE(generation_eos_ids(nlohmann::json::parse(R"({"bos_token_id": 1})"), "g").empty());
  EXPECT_TRUE(generation_eos_ids(nlohmann::json::parse(R"({"eos_token_id": null})"), "g").empty());
  EXPECT_EQ(model::read_generation_eos_ids(test::data_path("qwen2-vl-tiny/qwen2-vl")), (std::vector<int64_t>{502}));
  EXPECT_TRUE(model::read_generation_eos_ids(test::temp_dir("no_generation_config")).empty());
}

TEST(GenerationConfig, AnEosTokenIdThatIsNotATokenIdIsRefused) {
  for (const char* bad : {R"({"eos_token_id": -1})", R"({"eos_token_id": 4294967296})", R"({"eos_token_id": 2.5})",
                          R"({"eos_token_id": 4.3e85})", R"({"eos_token_id": "2"})", R"({"eos_token_id": [2, [3]]})",
                          R"({"eos_token_id": 18446744073709551615})", R"([1])"}) {
    try {
      (void)model::generation_eos_ids(nlohmann::json::parse(bad), "generation_config.json");
      ADD_FAILURE() << "accepted " << bad;
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()).rfind("generation_config.json: ", 0), 0u) << e.what();
    }
  }
}
