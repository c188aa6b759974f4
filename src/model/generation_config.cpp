#include "model/generation_config.h"

#include "io/files.h"

#include <stdexcept>

namespace seva::model {

namespace {

int64_t token_id(const nlohmann::json& v, const std::string& where) {
  // Integers only, compared before converting: get<int64_t> of a float out of range is undefined.
  constexpr int64_t kMax = 0x7fffffff;
  if (v.is_number_unsigned() && v.get<uint64_t>() <= static_cast<uint64_t>(kMax)) return v.get<int64_t>();
  if (!v.is_number_unsigned() && v.is_number_integer() && v.get<int64_t>() >= 0 && v.get<int64_t>() <= kMax)
    return v.get<int64_t>();
  throw std::runtime_error(where + ": eos_token_id must be a token id (a whole number from 0 to 2^31-1), got " +
                           v.dump().substr(0, 40));
}

}  // namespace

std::vector<int64_t> generation_eos_ids(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw std::runtime_error(where + ": expected a JSON object");
  auto it = j.find("eos_token_id");
  if (it == j.end() || it->is_null()) return {};
  if (!it->is_array()) return {token_id(*it, where)};
  std::vector<int64_t> ids;
  for (const auto& v : *it) ids.push_back(token_id(v, where));
  return ids;
}

std::vector<int64_t> read_generation_eos_ids(const std::string& model_dir) {
  const auto path = io::join_path(model_dir, "generation_config.json");
  if (!io::file_exists(path)) return {};
  return generation_eos_ids(io::read_json(path), path);
}

}  // namespace seva::model
