#include "train/new_model.h"

#include "io/files.h"
#include "model/checkpoint.h"
#include "model/init.h"
#include "text/sp_model.h"
#include "text/spm_train.h"
#include "text/tokenizer_files.h"

#include <nlohmann/json.hpp>

#include <stdexcept>

namespace seva::train {

model::LlavaConfig tiny_world_config() {
  model::LlavaConfig c;
  c.vision.hidden_size = 64;
  c.vision.intermediate_size = 256;
  c.vision.num_hidden_layers = 4;
  c.vision.num_attention_heads = 4;
  c.vision.image_size = 48;
  c.vision.patch_size = 8;
  c.vision.projection_dim = 64;
  c.text.hidden_size = 128;
  c.text.intermediate_size = 344;
  c.text.num_hidden_layers = 4;
  c.text.num_attention_heads = 4;
  c.text.num_key_value_heads = 4;
  c.text.max_position_embeddings = 512;
  c.text.rms_norm_eps = 1e-5;
  c.text.tie_word_embeddings = false;
  return c;
}

namespace {

nlohmann::ordered_json added_token(const std::string& content) {
  return {{"content", content}, {"lstrip", false}, {"normalized", false},
          {"rstrip", false},    {"single_word", false}, {"special", true}};
}

void write_json(const std::string& path, const nlohmann::ordered_json& j) {
  io::write_file_atomic(path, j.dump(2) + "\n");
}

}  // namespace

int64_t create_model(const NewModelOptions& o) {
  if (o.corpus.empty() || !io::file_exists(o.corpus)) throw std::runtime_error("corpus not found: " + o.corpus);
  io::make_dir(o.out);
  // LLaMA's tokenizer settings: BPE, identity normalisation, whitespace kept, digits split (so
  // numbers are read digit by digit), unk/bos/eos at 0/1/2, no pad piece (pad is an added token).
  const std::string prefix = io::join_path(o.out, "tokenizer");
  text::train_sentencepiece("--input=" + o.corpus + " --model_prefix=" + prefix +
                            " --vocab_size=" + std::to_string(o.vocab_size) +
                            " --hard_vocab_limit=false --model_type=bpe --character_coverage=1.0"
                            " --split_digits=true --normalization_rule_name=identity"
                            " --remove_extra_whitespaces=false --unk_id=0 --bos_id=1 --eos_id=2 --pad_id=-1"
                            " --minloglevel=2");
  io::remove_tree(prefix + ".vocab");
  const std::string model_path = prefix + ".model";
  const int64_t sp_size = text::SpModel::from_serialized(text::read_binary_file(model_path), model_path).size();

  model::LlavaConfig cfg = o.config;
  cfg.text.vocab_size = sp_size + 2;  // + <image>, <pad>
  cfg.image_token_index = sp_size;
  cfg.pad_token_id = sp_size + 1;
  cfg.text.pad_token_id = sp_size + 1;

  nlohmann::ordered_json added;
  added["0"] = added_token("<unk>");
  added["1"] = added_token("<s>");
  added["2"] = added_token("</s>");
  added[std::to_string(sp_size)] = added_token("<image>");
  added[std::to_string(sp_size + 1)] = added_token("<pad>");
  write_json(io::join_path(o.out, "tokenizer_config.json"),
             {{"add_bos_token", true}, {"add_eos_token", false}, {"add_prefix_space", true},
              {"added_tokens_decoder", added}, {"additional_special_tokens", {"<image>"}},
              {"bos_token", "<s>"}, {"clean_up_tokenization_spaces", false}, {"eos_token", "</s>"},
              {"legacy", false}, {"model_max_length", cfg.text.max_position_embeddings},
              {"pad_token", "<pad>"}, {"padding_side", "left"}, {"processor_class", "LlavaProcessor"},
              {"sp_model_kwargs", nlohmann::ordered_json::object()}, {"spaces_between_special_tokens", false},
              {"tokenizer_class", "LlamaTokenizer"}, {"unk_token", "<unk>"}, {"use_default_system_prompt", false}});
  write_json(io::join_path(o.out, "special_tokens_map.json"),
             {{"additional_special_tokens", {"<image>"}}, {"bos_token", "<s>"}, {"eos_token", "</s>"},
              {"pad_token", "<pad>"}, {"unk_token", "<unk>"}});
  const int64_t s = cfg.vision.image_size;
  write_json(io::join_path(o.out, "preprocessor_config.json"),
             {{"crop_size", {{"height", s}, {"width", s}}}, {"do_center_crop", true}, {"do_convert_rgb", true},
              {"do_normalize", true}, {"do_rescale", true}, {"do_resize", true},
              {"image_mean", {o.image_mean, o.image_mean, o.image_mean}},
              {"image_processor_type", "CLIPImageProcessor"},
              {"image_std", {o.image_std, o.image_std, o.image_std}}, {"processor_class", "LlavaProcessor"},
              {"resample", 3}, {"rescale_factor", 1.0 / 255.0}, {"size", {{"shortest_edge", s}}}});

  write_json(io::join_path(o.out, "seva.json"), {{"system_prompt", o.system_prompt}});

  model::LlavaForConditionalGeneration m(cfg);
  model::init_weights(*m, o.seed);
  model::save_llava(*m, o.out);
  int64_t n = 0;
  for (const auto& p : m->parameters()) n += p.numel();
  return n;
}

}  // namespace seva::train
