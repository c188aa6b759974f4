// config.json fields read from a file seva did not write: integer fields refuse numbers that do
// not fit instead of casting them (inputs found by fuzz/fuzz_model_config).
#include "io/files.h"
#include "model/config.h"
#include "model/qwen2_vl_config.h"
#include "test_helpers.h"

#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

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
