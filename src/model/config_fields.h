// Reading config.json fields with one-line errors, shared by every model family's config.
#pragma once
#include "model/config.h"

#include <nlohmann/json.hpp>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace seva::model {

// Whether `v` holds a value of integer type I: an integer in range, or a float with an integral
// value in range. nlohmann's get<integer>() is a plain cast: a float out of the type's range
// (1e300) is undefined behaviour and a large integer wraps.
template <typename I>
bool fits_integer(const nlohmann::json& v) {
  using L = std::numeric_limits<I>;
  if (v.is_number_unsigned()) return v.get<uint64_t>() <= static_cast<uint64_t>(L::max());
  if (v.is_number_integer()) {
    const int64_t x = v.get<int64_t>();
    return x < 0 ? std::is_signed_v<I> && x >= static_cast<int64_t>(L::min())
                 : static_cast<uint64_t>(x) <= static_cast<uint64_t>(L::max());
  }
  if (v.is_number_float()) {
    const double x = v.get<double>();
    // 2^digits is exact as a double; L::max() may not be.
    return std::isfinite(x) && x == std::trunc(x) && x >= static_cast<double>(L::min()) &&
           x < std::ldexp(1.0, L::digits);
  }
  return true;  // not a number: get<I>() throws, reported as a wrong type
}

template <typename T>
struct IntegerVector : std::false_type {};
template <typename I>
struct IntegerVector<std::vector<I>> : std::bool_constant<std::is_integral_v<I> && !std::is_same_v<I, bool>> {};

// Reads j[key] into `out` when present and not null; a value of the wrong type is an error
// naming the file (`where`) and the field. Integer fields (and lists of integers) refuse
// numbers that do not fit rather than casting them.
template <typename T>
void get_if(const nlohmann::json& j, const char* key, T& out, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return;
  bool fits = true;
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    fits = fits_integer<T>(*it);
  } else if constexpr (IntegerVector<T>::value) {
    if (it->is_array())
      for (const auto& v : *it) fits = fits && fits_integer<typename T::value_type>(v);
  }
  if (!fits)
    throw std::runtime_error(where + ": field '" + std::string(key) +
                             "' is not an integer in range: " + it->dump());
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
