// C API of the sentencepiece shim (libseva_spm.so): loaded with dlopen so its protobuf stays private.
#pragma once
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SEVA_SPM_SHIM_IMPL)
#define SEVA_SPM_API __attribute__((visibility("default")))
#else
#define SEVA_SPM_API
#endif

typedef struct seva_spm seva_spm;  // one loaded SentencePieceProcessor

// Last error of this thread ("" if none). Valid until the next shim call on this thread.
SEVA_SPM_API const char* seva_spm_last_error(void);

// Loads a model from serialized ModelProto bytes; NULL on error (see seva_spm_last_error).
SEVA_SPM_API seva_spm* seva_spm_load(const char* bytes, size_t len);
SEVA_SPM_API void seva_spm_free(seva_spm* h);

SEVA_SPM_API int seva_spm_piece_size(const seva_spm* h);
// Piece of `id` (pointer owned by the model, *len its byte length); NULL if id is out of range.
SEVA_SPM_API const char* seva_spm_id_to_piece(const seva_spm* h, int id, size_t* len);
SEVA_SPM_API int seva_spm_piece_to_id(const seva_spm* h, const char* piece, size_t len);
// 1 or 0; 0 for an id out of range.
SEVA_SPM_API int seva_spm_is_byte(const seva_spm* h, int id);
SEVA_SPM_API int seva_spm_is_control(const seva_spm* h, int id);
SEVA_SPM_API int seva_spm_is_unknown(const seva_spm* h, int id);

// Encodes UTF-8 text. Returns the number of pieces n (>= 0) or -1 on error. On success *ids (n
// ints), *piece_lens (n ints) and *piece_bytes (the pieces concatenated) are malloc'd buffers
// (possibly NULL when n == 0) to release with seva_spm_free_buffer.
SEVA_SPM_API int seva_spm_encode(const seva_spm* h, const char* text, size_t len, int** ids,
                                 int** piece_lens, char** piece_bytes);
// Decodes pieces (given concatenated, with their byte lengths) as DecodePieces does. Returns 0 on
// success with *out (malloc'd, NUL-terminated) and *out_len set; -1 on error.
SEVA_SPM_API int seva_spm_decode_pieces(const seva_spm* h, const char* piece_bytes,
                                        const int* piece_lens, int n, char** out, size_t* out_len);
// Decodes ids as DecodeIds does; same conventions as seva_spm_decode_pieces.
SEVA_SPM_API int seva_spm_decode_ids(const seva_spm* h, const int* ids, int n, char** out,
                                     size_t* out_len);
SEVA_SPM_API void seva_spm_free_buffer(void* p);

// Runs SentencePieceTrainer::Train with a command-line style argument string
// ("--input=... --model_prefix=... --vocab_size=..."). Returns 0 on success; on failure writes the
// message (truncated, NUL-terminated) into err[errlen] and returns nonzero.
SEVA_SPM_API int seva_spm_train(const char* args, char* err, int errlen);

#ifdef __cplusplus
}
#endif
