// Hand-parsing of a serialized sentencepiece ModelProto (no protobuf header ships): checks and patches.
#pragma once
#include <string>

namespace seva::text {

enum class SpModelType { kUnigram = 1, kBpe = 2, kWord = 3, kChar = 4 };

struct SpProtoInfo {
  SpModelType model_type = SpModelType::kUnigram;  // trainer_spec.model_type (proto default UNIGRAM)
  size_t num_pieces = 0;
};

// Walks the top-level fields; throws std::runtime_error naming `what` if the bytes are not a
// sentencepiece ModelProto (malformed wire format, unexpected fields, or no pieces).
SpProtoInfo inspect_sp_proto(const std::string& proto, const std::string& what);

// The same model with normalizer_spec.add_dummy_prefix = false: appends field 3 (varint 0) inside
// the (last) normalizer_spec and fixes its length prefix, or adds a normalizer_spec if none.
std::string with_add_dummy_prefix_off(const std::string& proto, const std::string& what);

std::string sp_model_type_name(SpModelType t);

}  // namespace seva::text
