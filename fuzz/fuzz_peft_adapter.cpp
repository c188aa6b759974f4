// libFuzzer target: a PEFT adapter directory. The input is adapter_config.json; it is read with
// LoraConfig::from_peft_json and, next to the fixture's adapter_model.safetensors, attached with
// load_adapter to a freshly loaded tiny LLaVA (the fixture's model_A).
#include <filesystem>
#include <nlohmann/json.hpp>

#include "fuzz_common.h"
#include "io/jsonl.h"
#include "model/checkpoint.h"
#include "model/lora.h"
#include "seva_build_paths.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = [] {
    torch::set_num_threads(1);
    const std::string d = seva_fuzz::scratch_dir() + "/adapter";
    std::filesystem::create_directories(d);
    std::filesystem::copy_file(seva_fuzz::fixture("llava-tiny-a/lora_A_adapter/adapter_model.safetensors"),
                               d + "/adapter_model.safetensors",
                               std::filesystem::copy_options::overwrite_existing);
    return d;
  }();
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  nlohmann::json j;
  try {
    j = seva::io::parse_json(bytes);  // as io::read_json reads it
  } catch (const std::exception&) {
    return 0;
  }
  try {
    (void)seva::model::LoraConfig::from_peft_json(j, "adapter_config.json");
  } catch (const std::exception&) {
    return 0;  // load_adapter reads the same file and would refuse it the same way
  }
  seva_fuzz::write_file(dir, "adapter_config.json", bytes);
  try {
    auto model = seva::model::load_model(seva_fuzz::fixture("llava-tiny-a/model_A"));
    (void)seva::model::load_adapter(*model, dir);
  } catch (const std::exception&) {
  }
  return 0;
}
