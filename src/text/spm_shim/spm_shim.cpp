// The sentencepiece shim: a plain C API over SentencePieceProcessor/Trainer (see spm_shim.h).
#define SEVA_SPM_SHIM_IMPL
#include "spm_shim.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <memory>
#include <new>
#include <string>
#include <vector>

struct seva_spm {
  sentencepiece::SentencePieceProcessor sp;
};

namespace {

thread_local std::string g_error;

void set_error(const std::string& e) { g_error = e; }

bool valid_id(const seva_spm* h, int id) { return h && id >= 0 && id < h->sp.GetPieceSize(); }

template <class T>
T* copy_out(const std::vector<T>& v) {
  if (v.empty()) return nullptr;
  T* p = static_cast<T*>(std::malloc(v.size() * sizeof(T)));
  if (!p) throw std::bad_alloc();
  std::memcpy(p, v.data(), v.size() * sizeof(T));
  return p;
}

int string_out(const std::string& s, char** out, size_t* out_len) {
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (!p) throw std::bad_alloc();
  std::memcpy(p, s.data(), s.size());
  p[s.size()] = '\0';
  *out = p;
  if (out_len) *out_len = s.size();
  return 0;
}

// With RTLD_DEEPBIND this library and sentencepiece bind std::cout/cerr/clog to libstdc++'s own
// storage. An executable that uses one of them has a copy-relocated instance, which is the one
// libstdc++ constructs at start-up; libstdc++'s own storage stays zeroed, and the first log line
// (the trainer logs to std::cerr) would crash. So: construct libstdc++'s object over the
// executable's stream buffer, once, when the shim is loaded.
// (RTLD_DEFAULT would search this library's deep-bound scope first: ask the executable.)
template <class Stream>
void share_stream(void* program, Stream& local, const char* mangled) {
  auto* global = static_cast<Stream*>(::dlsym(program, mangled));
  if (!global || global == &local) return;
  void* vptr = nullptr;
  std::memcpy(&vptr, static_cast<void*>(&local), sizeof(vptr));
  if (vptr) return;  // constructed already
  auto* s = new (static_cast<void*>(&local)) Stream(global->rdbuf());
  s->flags(global->flags());
  s->tie(global->tie());
}

__attribute__((constructor)) void share_std_streams() {
  void* program = ::dlopen(nullptr, RTLD_NOW);
  if (!program) return;
  share_stream(program, std::cout, "_ZSt4cout");
  share_stream(program, std::cerr, "_ZSt4cerr");
  share_stream(program, std::clog, "_ZSt4clog");
  share_stream(program, std::wcout, "_ZSt5wcout");
  share_stream(program, std::wcerr, "_ZSt5wcerr");
  share_stream(program, std::wclog, "_ZSt5wclog");
  ::dlclose(program);
}

}  // namespace

extern "C" {

const char* seva_spm_last_error(void) { return g_error.c_str(); }

seva_spm* seva_spm_load(const char* bytes, size_t len) {
  try {
    auto h = std::make_unique<seva_spm>();  // freed if sentencepiece throws (a protobuf error does)
    auto st = h->sp.LoadFromSerializedProto(absl::string_view(bytes, len));
    if (!st.ok()) {
      set_error(st.ToString());
      return nullptr;
    }
    return h.release();
  } catch (const std::exception& e) {
    set_error(e.what());
    return nullptr;
  }
}

void seva_spm_free(seva_spm* h) { delete h; }

int seva_spm_piece_size(const seva_spm* h) { return h ? h->sp.GetPieceSize() : 0; }

const char* seva_spm_id_to_piece(const seva_spm* h, int id, size_t* len) {
  if (!valid_id(h, id)) return nullptr;
  const std::string& p = h->sp.IdToPiece(id);
  if (len) *len = p.size();
  return p.c_str();
}

int seva_spm_piece_to_id(const seva_spm* h, const char* piece, size_t len) {
  return h ? h->sp.PieceToId(absl::string_view(piece, len)) : -1;
}

int seva_spm_is_byte(const seva_spm* h, int id) { return valid_id(h, id) && h->sp.IsByte(id); }
int seva_spm_is_control(const seva_spm* h, int id) { return valid_id(h, id) && h->sp.IsControl(id); }
int seva_spm_is_unknown(const seva_spm* h, int id) { return valid_id(h, id) && h->sp.IsUnknown(id); }

int seva_spm_encode(const seva_spm* h, const char* text, size_t len, int** ids, int** piece_lens,
                    char** piece_bytes) {
  *ids = nullptr;
  *piece_lens = nullptr;
  *piece_bytes = nullptr;
  try {
    auto spt = h->sp.EncodeAsImmutableProto(absl::string_view(text, len));
    std::vector<int> id_v, len_v;
    std::vector<char> bytes;
    for (const auto& p : spt.pieces()) {
      id_v.push_back(static_cast<int>(p.id()));
      len_v.push_back(static_cast<int>(p.piece().size()));
      bytes.insert(bytes.end(), p.piece().begin(), p.piece().end());
    }
    *ids = copy_out(id_v);
    *piece_lens = copy_out(len_v);
    *piece_bytes = copy_out(bytes);
    return static_cast<int>(id_v.size());
  } catch (const std::exception& e) {
    std::free(*ids);
    std::free(*piece_lens);
    std::free(*piece_bytes);
    *ids = nullptr;
    *piece_lens = nullptr;
    *piece_bytes = nullptr;
    set_error(e.what());
    return -1;
  }
}

int seva_spm_decode_pieces(const seva_spm* h, const char* piece_bytes, const int* piece_lens, int n,
                           char** out, size_t* out_len) {
  try {
    std::vector<std::string> pieces;
    pieces.reserve(n);
    size_t off = 0;
    for (int i = 0; i < n; ++i) {
      pieces.emplace_back(piece_bytes + off, static_cast<size_t>(piece_lens[i]));
      off += static_cast<size_t>(piece_lens[i]);
    }
    std::string text;
    auto st = h->sp.Decode(pieces, &text);
    if (!st.ok()) {
      set_error(st.ToString());
      return -1;
    }
    return string_out(text, out, out_len);
  } catch (const std::exception& e) {
    set_error(e.what());
    return -1;
  }
}

int seva_spm_decode_ids(const seva_spm* h, const int* ids, int n, char** out, size_t* out_len) {
  try {
    std::vector<int> v(ids, ids + n);
    for (int id : v)
      if (!valid_id(h, id)) {
        set_error("id " + std::to_string(id) + " out of range");
        return -1;
      }
    std::string text;
    auto st = h->sp.Decode(v, &text);
    if (!st.ok()) {
      set_error(st.ToString());
      return -1;
    }
    return string_out(text, out, out_len);
  } catch (const std::exception& e) {
    set_error(e.what());
    return -1;
  }
}

void seva_spm_free_buffer(void* p) { std::free(p); }

int seva_spm_train(const char* args, char* err, int errlen) {
  std::string msg;
  try {
    auto st = sentencepiece::SentencePieceTrainer::Train(absl::string_view(args ? args : ""));
    if (st.ok()) return 0;
    msg = st.ToString();
  } catch (const std::exception& e) {
    msg = e.what();
  }
  if (err && errlen > 0) {
    size_t n = std::min(msg.size(), static_cast<size_t>(errlen - 1));
    std::memcpy(err, msg.data(), n);
    err[n] = '\0';
  }
  return 1;
}

}  // extern "C"
