// Typed access to the fields of a parsed tokenizer file, each failure one std::runtime_error line
// "FILE: FIELD: what is wrong", so that a crafted file is refused instead of crashing seva.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace seva::text::jsonf {

using nlohmann::json;

// A value shown in a message: JSON-quoted (so a newline in it stays on the line), cut at `max`
// bytes.
std::string quoted(const std::string& s, size_t max = 80);

// The whole file parsed; refuses a file larger than max_bytes before reading it.
json read_file(const std::string& path, uint64_t max_bytes);

// Where a value sits, for messages: the file and the field path ("model.merges[3]").
struct At {
  std::string file;
  std::string field;
  At operator[](const std::string& key) const { return {file, field.empty() ? key : field + "." + key}; }
  At operator[](size_t index) const { return {file, field + "[" + std::to_string(index) + "]"}; }
  [[noreturn]] void fail(const std::string& what) const;
};

// obj[key], which must exist (unless `optional`, then a null json when absent).
const json& member(const json& obj, const char* key, const At& at, bool optional = false);
const json& object(const json& v, const At& at);
const json& array(const json& v, const At& at);
std::string string(const json& v, const At& at);
bool boolean(const json& v, const At& at);
// An integer in [lo, hi).
int64_t integer(const json& v, const At& at, int64_t lo, int64_t hi);
// obj[key] as a bool, `fallback` when absent or null.
bool flag(const json& obj, const char* key, const At& at, bool fallback);

}  // namespace seva::text::jsonf
