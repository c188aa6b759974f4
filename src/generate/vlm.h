// A loaded vision-language model ready to answer: the weights of any family, their tokenizer,
// image processor and chat template, and the options every model-loading command shares
// (defined once, here).
#pragma once
#include "generate/generate.h"
#include "image/preprocess.h"
#include "model/checkpoint.h"
#include "text/conversation.h"
#include "text/tokenizer.h"

#include <string>
#include <vector>

namespace seva::generate {

// Options of every command that loads a model or reads images.
struct ModelOptions {
  std::string model_dir;               // a Hugging Face checkpoint directory (LLaVA, Qwen2-VL, Qwen2.5-VL)
  std::string adapter_dir;             // a PEFT LoRA adapter applied on top ("" = none)
  std::string image_aspect = "auto";   // auto (the family's), pad (LLaVA-1.5 training) or none
  int threads = 0;                     // CPU threads; 0 = all cores
  std::string device = "cpu";          // cpu or cuda[:N]
  std::string dtype = "auto";          // auto (float32 on CPU, bfloat16 on CUDA), float32, float16, bfloat16
};

torch::Device parse_device(const std::string& name);            // throws naming the value
torch::ScalarType parse_dtype(const std::string& name, torch::Device device);
void set_threads(int threads);                                  // 0 = hardware cores

struct Query {
  std::string image;   // path of the image file
  std::string prompt;  // the full prompt text, holding the chat template's image marker once
};

struct Answer {
  std::string text;             // decoded, special tokens skipped, stripped (DESIGN: llava_v1)
  std::vector<int64_t> tokens;  // the generated ids, EOS included when produced
  std::string finish_reason;    // eos, stop or length
};

class Vlm {
 public:
  static Vlm load(const ModelOptions& opts);

  // Preprocessed pixels (3, H, W) of one image file, with this model's processor and aspect.
  torch::Tensor pixels(const std::string& image_path) const;
  // Answers a batch of queries in one batched generation (the vision tower once per image).
  std::vector<Answer> answer(const std::vector<Query>& queries, const SamplingOptions& opts);
  // Same, with pixels already made (e.g. augmented views), one (3, H, W) tensor per prompt.
  std::vector<Answer> answer_pixels(const std::vector<std::string>& prompts, const std::vector<torch::Tensor>& images,
                                    const SamplingOptions& opts, const std::vector<uint64_t>& row_seeds = {});
  // The answer text of a generation (DESIGN: llava_v1): EOS dropped, special tokens skipped, the
  // text cut at the stop string that ended it, stripped.
  std::string answer_text(const Generated& g, const SamplingOptions& opts) const;

  model::VisionLanguageModel model;
  text::Tokenizer tokenizer;
  text::ChatTemplate chat;  // the checkpoint's conversation template: prompts are chat.prompt(question)
  image::PreprocessConfig preprocess;
  image::ImageAspect aspect = image::ImageAspect::Pad;
  std::string model_dir;
  // The tokens that end an answer: the template's (EOS, or ChatML's <|im_end|>), then those of
  // generation_config.json (Qwen2-VL-Instruct: <|endoftext|> too).
  std::vector<int64_t> end_tokens;
};

}  // namespace seva::generate
