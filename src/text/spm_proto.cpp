// Protobuf wire-format walking for sentencepiece ModelProto: varint keys, length-delimited fields.
#include "text/spm_proto.h"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace seva::text {
namespace {

struct Field {
  uint32_t number = 0;
  uint32_t wire = 0;
  size_t key_begin = 0;   // offset of the key
  size_t len_begin = 0;   // wire 2: offset of the length varint
  size_t data_begin = 0;  // wire 2: payload offset
  size_t end = 0;         // one past the field
  uint64_t value = 0;     // wire 0: the varint
};

bool read_varint(const std::string& s, size_t& pos, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos >= s.size()) return false;
    auto b = static_cast<uint8_t>(s[pos++]);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

// Splits `s[begin, end)` into fields; returns false on malformed wire format.
bool parse_fields(const std::string& s, size_t begin, size_t end, std::vector<Field>& out) {
  size_t pos = begin;
  while (pos < end) {
    Field f;
    f.key_begin = pos;
    uint64_t key;
    if (!read_varint(s, pos, key) || pos > end) return false;
    f.number = static_cast<uint32_t>(key >> 3);
    f.wire = static_cast<uint32_t>(key & 7);
    if (f.number == 0) return false;
    switch (f.wire) {
      case 0:
        if (!read_varint(s, pos, f.value)) return false;
        break;
      case 1: pos += 8; break;
      case 5: pos += 4; break;
      case 2: {
        f.len_begin = pos;
        uint64_t len;
        if (!read_varint(s, pos, len) || len > end - std::min(pos, end)) return false;
        f.data_begin = pos;
        pos += static_cast<size_t>(len);
        break;
      }
      default: return false;
    }
    if (pos > end) return false;
    f.end = pos;
    out.push_back(f);
  }
  return true;
}

std::string varint_bytes(uint64_t v) {
  std::string out;
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    if (v) b |= 0x80;
    out.push_back(static_cast<char>(b));
  } while (v);
  return out;
}

std::vector<Field> top_level(const std::string& proto, const std::string& what) {
  std::vector<Field> fields;
  const std::string bad = what + " is not a sentencepiece model (ModelProto): ";
  if (!parse_fields(proto, 0, proto.size(), fields)) throw std::runtime_error(bad + "malformed protobuf");
  for (const auto& f : fields) {
    // ModelProto: 1 pieces, 2 trainer_spec, 3 normalizer_spec, 4 self_test_data,
    // 5 denormalizer_spec, all messages; extensions from 200.
    if (f.number >= 1 && f.number <= 5 && f.wire != 2)
      throw std::runtime_error(bad + "field " + std::to_string(f.number) + " is not a message");
    if (f.number > 5 && f.number < 200)
      throw std::runtime_error(bad + "unexpected field " + std::to_string(f.number));
  }
  return fields;
}

}  // namespace

std::string sp_model_type_name(SpModelType t) {
  switch (t) {
    case SpModelType::kUnigram: return "UNIGRAM";
    case SpModelType::kBpe: return "BPE";
    case SpModelType::kWord: return "WORD";
    case SpModelType::kChar: return "CHAR";
  }
  return "type " + std::to_string(static_cast<int>(t));
}

SpProtoInfo inspect_sp_proto(const std::string& proto, const std::string& what) {
  SpProtoInfo info;
  for (const auto& f : top_level(proto, what)) {
    if (f.number == 1) ++info.num_pieces;
    if (f.number == 2) {  // trainer_spec: field 3 = model_type (enum, varint)
      std::vector<Field> sub;
      if (!parse_fields(proto, f.data_begin, f.end, sub))
        throw std::runtime_error(what + ": malformed trainer_spec");
      for (const auto& g : sub)
        if (g.number == 3 && g.wire == 0) info.model_type = static_cast<SpModelType>(g.value);
    }
  }
  if (info.num_pieces == 0)
    throw std::runtime_error(what + " is not a sentencepiece model (ModelProto): it has no pieces");
  return info;
}

std::string with_add_dummy_prefix_off(const std::string& proto, const std::string& what) {
  const std::vector<Field> fields = top_level(proto, what);
  const Field* norm = nullptr;
  for (const auto& f : fields)
    if (f.number == 3) norm = &f;
  const std::string setting("\x18\x00", 2);  // field 3 (add_dummy_prefix), varint, false
  if (!norm) return proto + "\x1a" + varint_bytes(setting.size()) + setting;
  const size_t old_len = norm->end - norm->data_begin;
  std::string out = proto.substr(0, norm->len_begin);
  out += varint_bytes(old_len + setting.size());
  out.append(proto, norm->data_begin, old_len);
  out += setting;
  out.append(proto, norm->end, std::string::npos);
  return out;
}

}  // namespace seva::text
