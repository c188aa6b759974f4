// The checked JSON accessors of json_fields.h.
#include "text/json_fields.h"

#include "io/jsonl.h"

#include <stdexcept>
#include <sys/stat.h>

#include "text/tokenizer_files.h"

namespace seva::text::jsonf {

std::string quoted(const std::string& s, size_t max) {
  std::string q = json(s.size() > max ? s.substr(0, max) : s).dump(-1, ' ', false, json::error_handler_t::replace);
  return s.size() > max ? q.substr(0, q.size() - 1) + "...\"" : q;
}

json read_file(const std::string& path, uint64_t max_bytes) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) > max_bytes)
    throw std::runtime_error(path + ": " + std::to_string(st.st_size) + " bytes, more than the " +
                             std::to_string(max_bytes) + " this file may have");
  const std::string text = read_binary_file(path);
  try {
    return io::parse_json(text);  // depth-bounded: tokenizer files come from strangers
  } catch (const std::exception& e) {
    throw std::runtime_error("malformed JSON in " + path + ": " + e.what());
  }
}

void At::fail(const std::string& what) const {
  throw std::runtime_error(file + ": " + (field.empty() ? "" : field + ": ") + what);
}

const json& member(const json& obj, const char* key, const At& at, bool optional) {
  static const json kNull;
  auto it = obj.find(key);
  if (it != obj.end()) return *it;
  if (!optional) at[key].fail("missing");
  return kNull;
}

const json& object(const json& v, const At& at) {
  if (!v.is_object()) at.fail(std::string("expected an object, found ") + v.type_name());
  return v;
}

const json& array(const json& v, const At& at) {
  if (!v.is_array()) at.fail(std::string("expected an array, found ") + v.type_name());
  return v;
}

std::string string(const json& v, const At& at) {
  if (!v.is_string()) at.fail(std::string("expected a string, found ") + v.type_name());
  return v.get<std::string>();
}

bool boolean(const json& v, const At& at) {
  if (!v.is_boolean()) at.fail(std::string("expected true or false, found ") + v.type_name());
  return v.get<bool>();
}

int64_t integer(const json& v, const At& at, int64_t lo, int64_t hi) {
  if (!v.is_number_integer()) at.fail(std::string("expected an integer, found ") + v.type_name());
  // Unsigned values above INT64_MAX would wrap in get<int64_t>().
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
    at.fail(v.dump() + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + ")");
  const int64_t x = v.get<int64_t>();
  if (x < lo || x >= hi)
    at.fail(std::to_string(x) + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + ")");
  return x;
}

bool flag(const json& obj, const char* key, const At& at, bool fallback) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  return boolean(*it, at[key]);
}

}  // namespace seva::text::jsonf
