// libFuzzer target: the byte-level BPE tokenizer read from tokenizer.json (vocabulary, merges,
// added tokens, normalizer / pre-tokenizer / decoder pipeline), next to the Qwen2-VL fixture's
// tokenizer_config.json; a loaded tokenizer then encodes and decodes a fixed text.
#include <filesystem>

#include "fuzz_common.h"
#include "seva_build_paths.h"
#include "text/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = [] {
    const std::string d = seva_fuzz::scratch_dir() + "/tok";
    std::filesystem::create_directories(d);
    std::filesystem::copy_file(seva_fuzz::fixture("qwen2-vl-tiny/qwen2-vl/tokenizer_config.json"),
                               d + "/tokenizer_config.json",
                               std::filesystem::copy_options::overwrite_existing);
    return d;
  }();
  seva_fuzz::write_file(dir, "tokenizer.json", std::string(reinterpret_cast<const char*>(data), size));
  try {
    auto tok = seva::text::Tokenizer::load(dir);
    auto ids = tok.encode("<|im_start|>user\nHello, wörld! 12345 \t\n  <|image_pad|>ok<|im_end|>");
    ids.push_back(0);
    ids.push_back(tok.size() - 1);
    ids.push_back(tok.size() + 7);
    (void)tok.decode(ids);
    (void)tok.decode(ids, true);
  } catch (const std::exception&) {
  }
  return 0;
}
