// libFuzzer target: the safetensors reader (header validation, tensor reads) and the sharded
// checkpoint index. Input byte 0 picks the form; the rest is the file.
//   even: a .safetensors file, opened and every tensor read;
//   odd:  model.safetensors.index.json next to one valid shard (the fixture's LoRA adapter weights).
#include <filesystem>

#include "fuzz_common.h"
#include "io/safetensors.h"
#include "seva_build_paths.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const bool once = [] {
    torch::set_num_threads(1);
    const std::string shard_dir = seva_fuzz::scratch_dir() + "/ckpt";
    std::filesystem::create_directories(shard_dir);
    std::filesystem::copy_file(seva_fuzz::fixture("llava-tiny-a/lora_A_adapter/adapter_model.safetensors"),
                               shard_dir + "/model-00001-of-00001.safetensors",
                               std::filesystem::copy_options::overwrite_existing);
    return true;
  }();
  (void)once;
  const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    if (data[0] % 2 == 0) {
      const std::string path = seva_fuzz::write_file(seva_fuzz::scratch_dir(), "f.safetensors", bytes);
      seva::io::SafetensorsFile f(path);
      for (const auto& k : f.keys()) {
        const auto& info = f.info(k);
        (void)info;
        torch::Tensor t = f.get(k, torch::kFloat32);
        (void)t;
      }
    } else {
      const std::string dir = seva_fuzz::scratch_dir() + "/ckpt";
      seva_fuzz::write_file(dir, "model.safetensors.index.json", bytes);
      seva::io::Checkpoint c(dir);
      for (const auto& k : c.keys()) {
        (void)c.file_of(k);
        (void)c.get(k);
      }
    }
  } catch (const std::exception&) {
    // A clean refusal is the expected outcome for a malformed file.
  }
  return 0;
}
