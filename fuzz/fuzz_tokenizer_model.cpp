// libFuzzer target: a sentencepiece tokenizer.model (seva's own wire-format checks and its
// add_dummy_prefix patch, then Debian's libsentencepiece through the shim) next to the LLaVA
// fixture's tokenizer_config.json (legacy false, so the patch runs); a loaded tokenizer then
// encodes and decodes a fixed text.
//
// This target links no libtorch (CMakeLists.txt): with no other protobuf in the process the shim
// is loaded without RTLD_DEEPBIND, which AddressSanitizer refuses. libsentencepiece is not
// instrumented, so its branches do not guide the fuzzer, but a crash or a bad free in it is caught.
#include <cstdlib>
#include <filesystem>

#include "fuzz_common.h"
#include "text/spm_proto.h"
#include "text/tokenizer.h"

namespace {

// The patch must keep a valid model valid: the same pieces and type, parseable again.
void check_patch_keeps_the_model(const std::string& proto) {
  seva::text::SpProtoInfo before;
  try {
    before = seva::text::inspect_sp_proto(proto, "input");
  } catch (const std::exception&) {
    return;
  }
  const std::string patched = seva::text::with_add_dummy_prefix_off(proto, "input");
  const seva::text::SpProtoInfo after = seva::text::inspect_sp_proto(patched, "patched input");
  if (after.num_pieces != before.num_pieces || after.model_type != before.model_type) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = [] {
    const std::string d = seva_fuzz::scratch_dir() + "/spm";
    std::filesystem::create_directories(d);
    std::filesystem::copy_file(seva_fuzz::fixture("llava-tiny-a/tokenizer/tokenizer_config.json"),
                               d + "/tokenizer_config.json",
                               std::filesystem::copy_options::overwrite_existing);
    return d;
  }();
  const std::string proto(reinterpret_cast<const char*>(data), size);
  check_patch_keeps_the_model(proto);
  seva_fuzz::write_file(dir, "tokenizer.model", proto);
  try {
    auto tok = seva::text::Tokenizer::load(dir);
    auto ids = tok.encode("<s> Hello, wörld! 12345 \t\n  <image>ok</s> \xe2\x96\x81x");
    ids.push_back(0);
    ids.push_back(tok.size() - 1);
    ids.push_back(tok.size() + 7);
    (void)tok.decode(ids);
    (void)tok.decode(ids, true);
    (void)tok.token_to_id("<image>");
  } catch (const std::exception&) {
  }
  return 0;
}
