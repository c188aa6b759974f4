// SpModel: RAII over the shim's handle; copies results out of shim-allocated buffers.
#include "text/sp_model.h"

#include <stdexcept>

#include "text/spm_library.h"

namespace seva::text {

SpModel SpModel::from_serialized(const std::string& proto, const std::string& what) {
  const SpmApi& api = spm_api();
  seva_spm* h = api.load(proto.data(), proto.size());
  if (!h)
    throw std::runtime_error("cannot load sentencepiece model " + what + ": " + api.last_error());
  SpModel m;
  m.handle_ = std::shared_ptr<seva_spm>(h, [free = api.free](seva_spm* p) { free(p); });
  m.what_ = what;
  return m;
}

seva_spm* SpModel::handle() const {
  if (!handle_) throw std::logic_error("sentencepiece model used before it was loaded");
  return handle_.get();
}

int SpModel::size() const { return spm_api().piece_size(handle()); }

std::string SpModel::id_to_piece(int id) const {
  size_t len = 0;
  const char* p = spm_api().id_to_piece(handle(), id, &len);
  if (!p)
    throw std::out_of_range("id " + std::to_string(id) + " is outside the sentencepiece vocabulary (" +
                            std::to_string(size()) + " pieces) of " + what_);
  return std::string(p, len);
}

int SpModel::piece_to_id(const std::string& piece) const {
  return spm_api().piece_to_id(handle(), piece.data(), piece.size());
}

bool SpModel::is_byte(int id) const { return spm_api().is_byte(handle(), id) != 0; }
bool SpModel::is_control(int id) const { return spm_api().is_control(handle(), id) != 0; }
bool SpModel::is_unknown(int id) const { return spm_api().is_unknown(handle(), id) != 0; }

std::vector<SpPiece> SpModel::encode(const std::string& text) const {
  const SpmApi& api = spm_api();
  int* ids = nullptr;
  int* lens = nullptr;
  char* bytes = nullptr;
  int n = api.encode(handle(), text.data(), text.size(), &ids, &lens, &bytes);
  if (n < 0) throw std::runtime_error("sentencepiece encode failed (" + what_ + "): " + api.last_error());
  std::vector<SpPiece> out;
  out.reserve(n);
  size_t off = 0;
  for (int i = 0; i < n; ++i) {
    out.push_back({ids[i], std::string(bytes + off, static_cast<size_t>(lens[i]))});
    off += static_cast<size_t>(lens[i]);
  }
  api.free_buffer(ids);
  api.free_buffer(lens);
  api.free_buffer(bytes);
  return out;
}

std::string SpModel::decode_pieces(const std::vector<std::string>& pieces) const {
  const SpmApi& api = spm_api();
  std::string joined;
  std::vector<int> lens;
  lens.reserve(pieces.size());
  for (const auto& p : pieces) {
    joined += p;
    lens.push_back(static_cast<int>(p.size()));
  }
  char* out = nullptr;
  size_t out_len = 0;
  if (api.decode_pieces(handle(), joined.data(), lens.data(), static_cast<int>(lens.size()), &out,
                        &out_len) != 0)
    throw std::runtime_error("sentencepiece decode failed (" + what_ + "): " + api.last_error());
  std::string s(out, out_len);
  api.free_buffer(out);
  return s;
}

std::string SpModel::decode_ids(const std::vector<int>& ids) const {
  const SpmApi& api = spm_api();
  char* out = nullptr;
  size_t out_len = 0;
  if (api.decode_ids(handle(), ids.data(), static_cast<int>(ids.size()), &out, &out_len) != 0)
    throw std::runtime_error("sentencepiece decode failed (" + what_ + "): " + api.last_error());
  std::string s(out, out_len);
  api.free_buffer(out);
  return s;
}

}  // namespace seva::text
