// Loads the sentencepiece shim (libseva_spm.so) with dlopen and exposes its C functions.
#pragma once
#include <string>

#include "text/spm_shim/spm_shim.h"

namespace seva::text {

// The shim's functions, resolved once. Looked for in: $SEVA_SPM_SHIM, then libseva_spm.so next to
// the running executable, then the build tree's copy. Throws std::runtime_error listing every
// place tried (with dlopen's message) if none loads.
struct SpmApi {
  decltype(&seva_spm_last_error) last_error;
  decltype(&seva_spm_load) load;
  decltype(&seva_spm_free) free;
  decltype(&seva_spm_piece_size) piece_size;
  decltype(&seva_spm_id_to_piece) id_to_piece;
  decltype(&seva_spm_piece_to_id) piece_to_id;
  decltype(&seva_spm_is_byte) is_byte;
  decltype(&seva_spm_is_control) is_control;
  decltype(&seva_spm_is_unknown) is_unknown;
  decltype(&seva_spm_encode) encode;
  decltype(&seva_spm_decode_pieces) decode_pieces;
  decltype(&seva_spm_decode_ids) decode_ids;
  decltype(&seva_spm_free_buffer) free_buffer;
  decltype(&seva_spm_train) train;
  std::string path;  // the file that was loaded
};

const SpmApi& spm_api();

}  // namespace seva::text
