// What every model family provides, and all that trainers, generation and commands may ask of a
// model: image features for preprocessed images, prompts merged with them (embeddings and
// positions), and a LLaMA-like decoder. A family (LLaVA, Qwen2-VL, ...) implements the virtual
// functions; nothing outside src/model/ names a family.
#pragma once
#include "model/llama.h"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace seva::model {

// A batch of token sequences with the image embeddings spliced in: what the decoder sees.
struct MergedBatch {
  torch::Tensor embeds;          // (B, T, C)
  torch::Tensor mask;            // (B, T) bool: true = real token, false = padding
  torch::Tensor positions;       // (B, T) int64, or (3, B, T) temporal/height/width with M-RoPE
  std::vector<int64_t> lengths;  // real tokens per row
  std::vector<int64_t> offsets;  // index of each row's first real token (left padding > 0)
  std::vector<int64_t> next_position;  // per row: the position of the token that follows the row
};

enum class Padding { Left, Right };

struct VisionLanguageModelImpl : torch::nn::Module {
  ~VisionLanguageModelImpl() override = default;

  // images: preprocessed by this family's processor, each (3, H, W) (sizes may differ where the
  // family allows it). Returns one tensor per image: the frozen vision encoder's output, the part
  // training keeps once computed, before the projector (which may train).
  virtual std::vector<torch::Tensor> vision_features(const std::vector<torch::Tensor>& images) = 0;
  // The projector on vision_features' outputs: per image its embeddings in the decoder's width,
  // (P, C), or (H', W', C) when the family's positions follow the image grid.
  virtual std::vector<torch::Tensor> project(const std::vector<torch::Tensor>& features) = 0;
  std::vector<torch::Tensor> image_features(const std::vector<torch::Tensor>& images) {
    return project(vision_features(images));
  }

  // Embeds `ids` and replaces each run of image tokens by the next image's embeddings (consumed
  // in order across the batch). A run of one image token is expanded to the image's P embeddings;
  // a run of exactly P tokens is replaced one for one (processors that expand the marker). Any
  // other run length, or a count of runs that differs from the number of images, is an error.
  MergedBatch merge_prompts(const std::vector<std::vector<int64_t>>& ids, const std::vector<torch::Tensor>& image_embeds,
                            Padding padding);
  // Full-sequence logits (B, T_merged, vocab) for left-padded prompts: for tests and tools.
  torch::Tensor forward_logits(const std::vector<std::vector<int64_t>>& ids, const std::vector<torch::Tensor>& images);

  // The token that stands for an image in prompts.
  virtual int64_t image_token_id() const = 0;
  // config.json's model_type: llava, qwen2_vl, qwen2_5_vl.
  virtual std::string model_type() const = 0;
  // A complete config.json for this model (what `merge` and `save_model` write).
  virtual nlohmann::json config_json() const = 0;
  // Checkpoint key -> our parameter name ("" for buffers that carry no weights), for every key
  // layout transformers has written for the family; and our name -> the key to write.
  virtual std::string canonical_key(const std::string& key) const = 0;
  virtual std::string checkpoint_key(const std::string& name) const = 0;
  // Our name -> the name PEFT gives the parameter (after base_model.model.) with the transformers
  // version current for the family; and, for adapters seva writes, a target_modules regex when
  // PEFT's plain name list would also catch modules seva leaves alone ("" keeps the list).
  virtual std::string adapter_name(const std::string& name) const { return checkpoint_key(name); }
  virtual std::string peft_target_regex(const std::vector<std::string>& module_names) const { return ""; }
  // The vision encoder and the projector, and their parameter-name prefixes (SFT trains them
  // whole; LoRA may target the projector's linear layers).
  virtual torch::nn::Module& vision_encoder() = 0;
  virtual std::string vision_prefix() const = 0;
  virtual torch::nn::Module& projector() = 0;
  virtual std::string projector_prefix() const = 0;
  // Image embeddings that one image of `height` x `width` preprocessed pixels becomes.
  virtual int64_t image_tokens(int64_t height, int64_t width) const = 0;
  // What the loader needs to pair the model with its processor, tokenizer and template: the
  // image token's text, the side every image is resized to (0: each image keeps its own size, a
  // multiple of image_size_multiple()), the default aspect mode (pad, none) and the chat format
  // (llava_v1, chatml).
  virtual std::string image_token() const = 0;
  virtual int64_t fixed_image_size() const = 0;
  virtual int64_t image_size_multiple() const = 0;
  virtual std::string default_image_aspect() const = 0;
  virtual std::string chat_format() const = 0;
  // The architecture in a few lines, for `seva info` (each line ends with a newline).
  virtual std::string describe() const = 0;

  torch::ScalarType dtype() const;
  torch::Device device() const;

  LlamaForCausalLM language_model{nullptr};  // the decoder; registered by the family

 protected:
  // Positions for a row's pieces; grid-following families (M-RoPE) override it. `pieces` are the
  // row's text runs (a 1-D count) and images (their embeddings, (P, C) or (H', W', C)), in order.
  // Returns (A, L) int64 with A = 1 (plain RoPE) or 3, and sets `next` to the position after.
  virtual torch::Tensor row_positions(const std::vector<torch::Tensor>& pieces, const std::vector<bool>& is_image,
                                      int64_t& next) const;
};

// The decoder's shape in one line: layers, width, heads, MLP, vocabulary, rotary, embeddings.
std::string describe_decoder(const LlamaConfig& t);

// Additive attention bias (B, 1, Tq, Tk) for the last Tq of Tk positions: causal, and keys where
// key_mask (B, Tk) is false are hidden.
torch::Tensor causal_bias(const torch::Tensor& key_mask, int64_t q_len, torch::ScalarType dtype);

}  // namespace seva::model
