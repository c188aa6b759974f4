// generation_config.json: the tokens Hugging Face's `generate` stops at. Instruct checkpoints list
// more than one there (Qwen2-VL-Instruct: <|im_end|> and <|endoftext|>), and an answer that ends
// at any of them must end seva's generation too.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace seva::model {

// `eos_token_id` of a parsed generation_config.json: an id or a list of ids, each 0..2^31-1.
// Absent or null: none. Anything else throws naming `where` and the field.
std::vector<int64_t> generation_eos_ids(const nlohmann::json& j, const std::string& where);

// The same from MODEL_DIR/generation_config.json; a checkpoint without the file has none.
std::vector<int64_t> read_generation_eos_ids(const std::string& model_dir);

}  // namespace seva::model
