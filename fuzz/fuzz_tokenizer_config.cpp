// libFuzzer target: tokenizer_config.json (special tokens, added_tokens_decoder, flags) next to
// the Qwen2-VL fixture's tokenizer.json; a loaded tokenizer then encodes and decodes a fixed text.
// (The sentencepiece form is not fuzzed here: its shim is loaded with RTLD_DEEPBIND, which
// AddressSanitizer refuses.)
#include <filesystem>

#include "fuzz_common.h"
#include "seva_build_paths.h"
#include "text/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = [] {
    const std::string d = seva_fuzz::scratch_dir() + "/tokcfg";
    std::filesystem::create_directories(d);
    std::filesystem::copy_file(seva_fuzz::fixture("qwen2-vl-tiny/qwen2-vl/tokenizer.json"),
                               d + "/tokenizer.json", std::filesystem::copy_options::overwrite_existing);
    return d;
  }();
  seva_fuzz::write_file(dir, "tokenizer_config.json", std::string(reinterpret_cast<const char*>(data), size));
  try {
    auto tok = seva::text::Tokenizer::load(dir);
    auto ids = tok.encode("<|im_start|>user\nHello <image> world<|im_end|>\n");
    ids.push_back(tok.size() - 1);
    (void)tok.decode(ids);
    (void)tok.decode(ids, true);
    (void)tok.token_to_id("<|image_pad|>");
  } catch (const std::exception&) {
  }
  return 0;
}
