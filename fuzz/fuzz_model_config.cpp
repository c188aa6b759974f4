// libFuzzer target: the model, processor and generation configs (config.json,
// preprocessor_config.json, generation_config.json).
// The input is parsed as JSON and given to every config reader.
#include <nlohmann/json.hpp>

#include "image/preprocess.h"
#include "io/jsonl.h"
#include "model/config.h"
#include "model/generation_config.h"
#include "model/qwen2_vl_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::json j;
  try {
    // As seva reads config files (io::read_json): depth-bounded.
    j = seva::io::parse_json(reinterpret_cast<const char*>(data), reinterpret_cast<const char*>(data) + size);
  } catch (const std::exception&) {
    return 0;
  }
  try {
    (void)seva::model::LlavaConfig::from_json(j, "config.json");
  } catch (const std::exception&) {
  }
  try {
    (void)seva::model::Qwen2VLConfig::from_json(j, "config.json");
  } catch (const std::exception&) {
  }
  try {
    (void)seva::model::generation_eos_ids(j, "generation_config.json");
  } catch (const std::exception&) {
  }
  try {
    (void)seva::image::PreprocessConfig::from_json(j, "preprocessor_config.json");
  } catch (const std::exception&) {
  }
  return 0;
}
