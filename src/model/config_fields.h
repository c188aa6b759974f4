// Reading config.json fields with one-line errors, shared by every model family's config.
#pragma once
#include "model/config.h"

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace seva::model {

// Reads j[key] into `out` when present and not null; a value of the wrong type is an error
// naming the file (`where`) and the field.
template <typename T>
void get_if(const nlohmann::json& j, const char* key, T& out, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return;
  try {
    out = it->get<T>();
  } catch (const std::exception&) {
    throw std::runtime_error(where + ": field '" + std::string(key) + "' has the wrong type: " + it->dump());
  }
}

// A size field must lie in [lo, hi]: zero or negative sizes would divide by zero or index out of
// range, and absurd ones (a width of 10^18) would reach libtorch's allocator.
void check_size(int64_t value, int64_t lo, int64_t hi, const std::string& field, const std::string& where);
void check_activation(const std::string& act, const std::string& field, const std::string& where);

// The decoder fields LLaMA-like text configs share (Qwen2 included), and their bounds.
void read_text_fields(const nlohmann::json& j, LlamaConfig& c, const std::string& where);
void check_text_sizes(const LlamaConfig& c, const std::string& where);

}  // namespace seva::model
