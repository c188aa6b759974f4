// SpModel: a C++ handle on one sentencepiece model held by the shim (encode, decode, vocabulary).
#pragma once
#include <memory>
#include <string>
#include <vector>

struct seva_spm;

namespace seva::text {

struct SpPiece {
  int id;
  std::string piece;
};

class SpModel {
 public:
  // Loads serialized ModelProto bytes; `what` names the source in errors (e.g. the file path).
  static SpModel from_serialized(const std::string& proto, const std::string& what);

  int size() const;                            // GetPieceSize
  std::string id_to_piece(int id) const;       // throws for an id out of range
  int piece_to_id(const std::string& piece) const;  // unk id when absent
  bool is_byte(int id) const;
  bool is_control(int id) const;
  bool is_unknown(int id) const;

  std::vector<SpPiece> encode(const std::string& text) const;
  std::string decode_pieces(const std::vector<std::string>& pieces) const;
  std::string decode_ids(const std::vector<int>& ids) const;

 private:
  seva_spm* handle() const;  // throws if nothing is loaded (a default-constructed SpModel)
  std::shared_ptr<seva_spm> handle_;
  std::string what_;
};

}  // namespace seva::text
