// Qwen2-VL and Qwen2.5-VL against numbers computed by Hugging Face transformers 4.57 and PEFT 0.21
// on the tiny fixture (tests/data/qwen2-vl-tiny): the image processor, the vision encoder, M-RoPE
// positions, logits (one prompt, a left-padded batch of images of different sizes, text only),
// greedy generation, DPO log-probabilities, loss and LoRA gradients, both key layouts and bf16.
#include "generate/generate.h"
#include "generate/vlm.h"
#include "image/preprocess.h"
#include "io/files.h"
#include "io/safetensors.h"
#include "model/checkpoint.h"
#include "model/lora.h"
#include "model/qwen2_vl.h"
#include "train/dpo_loss.h"
#include "train/logps.h"
#include "test_helpers.h"

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <functional>

using namespace seva;

namespace {

std::string qwen_path(const std::string& rel) { return test::data_path("qwen2-vl-tiny/" + rel); }

struct Reference {
  explicit Reference(const std::string& family)
      : family(family),
        json(io::read_json(qwen_path("reference_" + family + ".json"))),
        tensors(qwen_path("reference_" + family + ".safetensors")) {}
  std::string family;
  nlohmann::json json;
  io::SafetensorsFile tensors;
  std::string dir() const { return qwen_path(family); }
};

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

const char* const kImages[] = {"img0_64x40.png", "img1_90x120.png", "img2_190x125.png"};

// Image i preprocessed as the family's processor does it, (3, H, W).
torch::Tensor picture(int i, const std::string& family) {
  auto cfg = image::PreprocessConfig::from_file(qwen_path(family + "/preprocessor_config.json"));
  return image::preprocess_file(qwen_path(std::string("images/") + kImages[i]), cfg, image::ImageAspect::None);
}

// Row b of a reference id matrix without its left padding.
std::vector<int64_t> unpadded(const Reference& ref, const std::string& name, int64_t b) {
  auto ids = ref.tensors.get(name + ".input_ids")[b];
  auto mask = ref.tensors.get(name + ".attention_mask")[b];
  std::vector<int64_t> out;
  for (int64_t t = 0; t < ids.size(0); ++t)
    if (mask[t].item<int64_t>() == 1) out.push_back(ids[t].item<int64_t>());
  return out;
}

model::VisionLanguageModel load(const std::string& dir) { return model::load_model(dir); }

class Qwen2VL : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST(Qwen2VLProcessor, SmartResizeAndPatchesMatchTransformers) {
  io::SafetensorsFile ref(qwen_path("reference_processor.safetensors"));
  auto m = load(qwen_path("qwen2-vl"));
  auto* q = dynamic_cast<model::Qwen2VLForConditionalGenerationImpl*>(m.get());
  ASSERT_NE(q, nullptr);
  const std::pair<int, int> resized[] = {{56, 84}, {112, 84}, {84, 168}};  // min_pixels, none, max_pixels
  for (int i = 0; i < 3; ++i) {
    auto px = picture(i, "qwen2-vl");
    EXPECT_EQ(px.size(1), resized[i].first) << kImages[i];
    EXPECT_EQ(px.size(2), resized[i].second) << kImages[i];
    auto patches = q->visual->patchify(px);
    auto expected = ref.get("img" + std::to_string(i) + ".pixel_values");
    ASSERT_EQ(patches.sizes(), expected.sizes());
    EXPECT_LT(max_abs_diff(patches, expected), 1e-6) << kImages[i];
  }
  EXPECT_EQ(image::smart_resize(40, 64, 28, 3136, 18816), std::make_pair(56, 84));
  EXPECT_EQ(image::smart_resize(125, 190, 28, 3136, 18816), std::make_pair(84, 168));
  EXPECT_THROW(image::smart_resize(1, 300, 28, 3136, 18816), std::runtime_error);  // aspect ratio over 200
}

TEST_P(Qwen2VL, VisionEncoderMatchesTransformers) {
  Reference ref(GetParam());
  auto m = load(ref.dir());
  torch::NoGradGuard ng;
  for (int i = 0; i < 3; ++i) {
    auto e = m->image_features({picture(i, ref.family)})[0];
    auto expected = ref.tensors.get("vision.img" + std::to_string(i) + ".embeds");
    EXPECT_EQ(e.dim(), 3);
    EXPECT_LT(max_abs_diff(e.reshape({-1, e.size(-1)}), expected), 1e-4) << kImages[i];
  }
  // Two images in one call: each as alone.
  auto both = m->image_features({picture(0, ref.family), picture(1, ref.family)});
  auto cat = torch::cat({both[0].reshape({-1, 64}), both[1].reshape({-1, 64})});
  EXPECT_LT(max_abs_diff(cat, ref.tensors.get("vision.batch01.embeds")), 1e-4);
}

TEST_P(Qwen2VL, PositionsAndLogitsMatchTransformers) {
  Reference ref(GetParam());
  auto m = load(ref.dir());
  torch::NoGradGuard ng;
  // One prompt with img2, the processor's expanded <|image_pad|> run.
  auto ids = unpadded(ref, "single", 0);
  auto batch = m->merge_prompts({ids}, m->image_features({picture(2, ref.family)}), model::Padding::Left);
  EXPECT_TRUE(torch::equal(batch.positions, ref.tensors.get("single.position_ids")));
  EXPECT_EQ(batch.next_position[0], 60 + ref.tensors.get("single.rope_deltas").item<int64_t>());
  auto logits = m->forward_logits({ids}, {picture(2, ref.family)});
  EXPECT_LT(max_abs_diff(logits, ref.tensors.get("single.logits")), 1e-4);
  // The same prompt with one <|image_pad|>: expanded by the model.
  std::vector<int64_t> one;
  for (size_t t = 0; t < ids.size(); ++t)
    if (!(ids[t] == 512 && t > 0 && ids[t - 1] == 512)) one.push_back(ids[t]);
  EXPECT_LT(max_abs_diff(m->forward_logits({one}, {picture(2, ref.family)}), ref.tensors.get("single.logits")), 1e-4);

  // A left-padded batch of two images of different sizes: only unmasked positions count.
  std::vector<std::vector<int64_t>> rows{unpadded(ref, "batch", 0), unpadded(ref, "batch", 1)};
  std::vector<torch::Tensor> images{picture(1, ref.family), picture(0, ref.family)};
  auto b = m->merge_prompts(rows, m->image_features(images), model::Padding::Left);
  EXPECT_TRUE(torch::equal(b.positions, ref.tensors.get("batch.position_ids")));
  auto mask = ref.tensors.get("batch.attention_mask").to(torch::kBool).unsqueeze(-1);
  auto got = m->forward_logits(rows, images).masked_fill(mask.logical_not(), 0);
  auto want = ref.tensors.get("batch.logits").masked_fill(mask.logical_not(), 0);
  EXPECT_LT(max_abs_diff(got, want), 1e-4);

  auto text = unpadded(ref, "text_only", 0);
  EXPECT_LT(max_abs_diff(m->forward_logits({text}, {}), ref.tensors.get("text_only.logits")), 1e-4);
}

TEST_P(Qwen2VL, GreedyGenerationMatchesTransformers) {
  Reference ref(GetParam());
  auto m = load(ref.dir());
  generate::SamplingOptions opts;
  opts.max_new_tokens = 8;
  auto tail = [](const torch::Tensor& seq) {
    auto t = seq.narrow(0, seq.size(0) - 8, 8);
    return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + 8);
  };
  // The fixed-shape steps a CUDA graph captures give the same tokens as the default ones.
  for (auto mode : {generate::DecodeMode::Dynamic, generate::DecodeMode::Static}) {
    SCOPED_TRACE(generate::decode_mode_name(mode));
    opts.decode = mode;
    auto single = generate::generate(*m, {unpadded(ref, "single", 0)}, {picture(2, ref.family)}, opts, {502});
    EXPECT_EQ(single[0].tokens, tail(ref.tensors.get("generate.single.sequences")[0].contiguous()));
    // Left-padded, two image sizes, with the KV cache: wrong M-RoPE offsets show here first.
    auto batch = generate::generate(*m, {unpadded(ref, "batch", 0), unpadded(ref, "batch", 1)},
                                    {picture(1, ref.family), picture(0, ref.family)}, opts, {502});
    auto seqs = ref.tensors.get("generate.batch.sequences");
    EXPECT_EQ(batch[0].tokens, tail(seqs[0].contiguous()));
    EXPECT_EQ(batch[1].tokens, tail(seqs[1].contiguous()));
    auto text = generate::generate(*m, {unpadded(ref, "text_only", 0)}, {}, opts, {502});
    EXPECT_EQ(text[0].tokens, tail(ref.tensors.get("generate.text_only.sequences")[0].contiguous()));
  }
}

// Instruct checkpoints list several end tokens (generation_config.json): a row ends at the first
// it samples, whichever it is.
TEST_P(Qwen2VL, GenerationEndsAtAnyOfSeveralEosIds) {
  Reference ref(GetParam());
  auto m = load(ref.dir());
  generate::SamplingOptions opts;
  opts.max_new_tokens = 8;
  auto seq = ref.tensors.get("generate.single.sequences")[0].contiguous();
  std::vector<int64_t> want(seq.data_ptr<int64_t>() + seq.size(0) - 8, seq.data_ptr<int64_t>() + seq.size(0));
  // The greedy answer's third token, wherever it first appears, becomes a second end token.
  const int64_t end = want[2];
  want.resize(std::find(want.begin(), want.end(), end) - want.begin() + 1);
  ASSERT_NE(end, 502);
  auto got = generate::generate(*m, {unpadded(ref, "single", 0)}, {picture(2, ref.family)}, opts, {502, end});
  EXPECT_EQ(got[0].tokens, want);
  EXPECT_EQ(got[0].finish_reason, "eos");
}

TEST_P(Qwen2VL, LoadingTakesEveryEndTokenOfGenerationConfig) {
  Reference ref(GetParam());
  const auto dir = test::temp_dir("qwen_generation_config") + "/model";
  std::filesystem::copy(ref.dir(), dir, std::filesystem::copy_options::recursive);
  // <|im_end|> (502) ends a ChatML answer; <|endoftext|> (500) is listed as Qwen2-VL-Instruct lists it.
  io::write_file_atomic(dir + "/generation_config.json", R"({"eos_token_id": [502, 500]})");
  generate::ModelOptions o;
  o.model_dir = dir;
  EXPECT_EQ(generate::Vlm::load(o).end_tokens, (std::vector<int64_t>{502, 500}));
  io::write_file_atomic(dir + "/generation_config.json", R"({"eos_token_id": [502, -7]})");
  EXPECT_THROW(generate::Vlm::load(o), std::runtime_error);
}

TEST_P(Qwen2VL, DpoLogpsLossAndLoraGradientsMatchPeft) {
  Reference ref(GetParam());
  auto m = load(ref.dir());
  const auto& dpo = ref.json["dpo"];
  const int64_t P = dpo["prompt_len"].get<int64_t>();
  auto chosen = ref.tensors.get("dpo.chosen.input_ids")[0];
  auto prompt = std::vector<int64_t>(chosen.data_ptr<int64_t>(), chosen.data_ptr<int64_t>() + P);
  train::PackedExample ex{prompt,
                          {dpo["chosen"]["completion_ids"].get<std::vector<int64_t>>(),
                           dpo["rejected"]["completion_ids"].get<std::vector<int64_t>>()}};
  auto img = picture(0, ref.family);
  torch::Tensor ref_lp;
  {
    torch::NoGradGuard ng;
    ref_lp = train::packed_logps(*m, {ex}, m->image_features({img}))[0];
  }
  EXPECT_NEAR(ref_lp[0].item<double>(), ref.tensors.get("dpo.logps.ref_chosen").item<double>(), 1e-4);
  EXPECT_NEAR(ref_lp[1].item<double>(), ref.tensors.get("dpo.logps.ref_rejected").item<double>(), 1e-4);

  model::load_adapter(*m, qwen_path("lora_" + ref.family + "_adapter"));
  for (auto& [name, p] : model::lora_parameters(*m)) p.set_requires_grad(true);
  auto lp = train::packed_logps(*m, {ex}, m->image_features({img}))[0];
  EXPECT_NEAR(lp[0].item<double>(), ref.tensors.get("dpo.logps.policy_chosen").item<double>(), 1e-4);
  EXPECT_NEAR(lp[1].item<double>(), ref.tensors.get("dpo.logps.policy_rejected").item<double>(), 1e-4);
  auto out = train::dpo_loss(lp.narrow(0, 0, 1), lp.narrow(0, 1, 1).unsqueeze(1), ref_lp.narrow(0, 0, 1),
                             ref_lp.narrow(0, 1, 1).unsqueeze(1), train::DpoOptions{});
  EXPECT_NEAR(out.loss.item<double>(), ref.tensors.get("dpo.loss").item<double>(), 1e-5);
  out.loss.backward();
  int checked = 0;
  for (auto& [name, p] : model::lora_parameters(*m)) {
    auto key = "dpo.grad." + model::adapter_key(*m, name);
    ASSERT_TRUE(ref.tensors.contains(key)) << key;
    auto want = ref.tensors.get(key);
    EXPECT_LT(max_abs_diff(p.grad(), want), 1e-5 + 1e-3 * want.abs().max().item<double>()) << key;
    ++checked;
  }
  EXPECT_EQ(checked, 28);
}

TEST_P(Qwen2VL, AdapterRoundTripsWithPeftKeys) {
  Reference ref(GetParam());
  auto m = load(ref.dir());
  auto cfg = model::load_adapter(*m, qwen_path("lora_" + ref.family + "_adapter"));
  const auto dir = test::temp_dir("qwen_adapter_" + ref.family);
  model::save_adapter(*m, cfg, dir);
  io::SafetensorsFile ours(io::join_path(dir, "adapter_model.safetensors"));
  io::SafetensorsFile peft(qwen_path("lora_" + ref.family + "_adapter/adapter_model.safetensors"));
  auto a = ours.keys(), b = peft.keys();
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  EXPECT_EQ(a, b);
  for (const auto& k : b) EXPECT_TRUE(torch::equal(ours.get(k), peft.get(k))) << k;
  // A list of names written for this family becomes a regex that spares the vision encoder.
  model::LoraConfig fresh;
  auto m2 = load(ref.dir());
  model::add_lora(*m2, fresh);
  EXPECT_EQ(model::lora_parameters(*m2).size(), 28u);
  const auto dir2 = test::temp_dir("qwen_adapter_list_" + ref.family);
  model::save_adapter(*m2, fresh, dir2);
  auto written = io::read_json(io::join_path(dir2, "adapter_config.json"));
  ASSERT_TRUE(written["target_modules"].is_string());
  auto back = model::LoraConfig::from_peft_json(written, "adapter_config.json");
  auto m3 = load(ref.dir());
  model::add_lora(*m3, back);
  EXPECT_EQ(model::lora_parameters(*m3).size(), 28u);
}

TEST_P(Qwen2VL, KeyLayoutsConfigFormsAndBf16Load) {
  Reference ref(GetParam());
  auto m = load(ref.dir());
  torch::NoGradGuard ng;
  auto ids = unpadded(ref, "single", 0);
  auto base = m->forward_logits({ids}, {picture(2, ref.family)});
  // The Hub's flat config.json beside the same weights.
  const auto flat = test::temp_dir("qwen_flat_" + ref.family);
  io::write_file_atomic(io::join_path(flat, "config.json"), io::read_file(qwen_path("flat_config_" + ref.family + ".json")));
  std::filesystem::copy_file(qwen_path(ref.family + "/model.safetensors"), io::join_path(flat, "model.safetensors"));
  EXPECT_TRUE(torch::equal(load(flat)->forward_logits({ids}, {picture(2, ref.family)}), base));
  if (ref.family == "qwen2-vl") {  // transformers >= 4.52's module-tree names
    EXPECT_TRUE(torch::equal(load(qwen_path("qwen2-vl-module-layout"))->forward_logits({ids}, {picture(2, ref.family)}), base));
  } else {
    auto bf = load(qwen_path("qwen2.5-vl-bf16"))->forward_logits({ids}, {picture(2, ref.family)});
    EXPECT_LT(max_abs_diff(bf[0][-1], ref.tensors.get("bf16_upcast.single.logits_last")[0]), 1e-4);
  }
  // save_model writes the Hub layout, which loads back to the same model.
  const auto saved = test::temp_dir("qwen_saved_" + ref.family);
  model::save_model(*m, saved);
  io::Checkpoint ckpt(saved);
  for (const auto& k : ckpt.keys()) EXPECT_TRUE(k.rfind("visual.", 0) == 0 || k.rfind("model.", 0) == 0 || k == "lm_head.weight") << k;
  EXPECT_TRUE(torch::equal(load(saved)->forward_logits({ids}, {picture(2, ref.family)}), base));
}

INSTANTIATE_TEST_SUITE_P(Families, Qwen2VL, ::testing::Values("qwen2-vl", "qwen2.5-vl"),
                         [](const auto& info) { return info.param == "qwen2-vl" ? std::string("Qwen2") : std::string("Qwen2_5"); });

namespace {

// A copy of the qwen2-vl checkpoint with config.json edited by `edit`.
std::string edited_copy(const std::string& name, const std::function<void(nlohmann::json&)>& edit) {
  const auto dir = test::temp_dir("qwen_bad_" + name);
  auto cfg = io::read_json(qwen_path("qwen2-vl/config.json"));
  edit(cfg);
  io::write_file_atomic(io::join_path(dir, "config.json"), cfg.dump(2));
  std::filesystem::copy_file(qwen_path("qwen2-vl/model.safetensors"), io::join_path(dir, "model.safetensors"));
  return dir;
}

void expect_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no error";
  } catch (const std::exception& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    for (const auto& p : parts) EXPECT_NE(what.find(p), std::string::npos) << "'" << p << "' not in: " << what;
  }
}

}  // namespace

TEST(Qwen2VLBadInput, ConfigFieldsSevaCannotHonourAreNamed) {
  auto unknown = edited_copy("type", [](nlohmann::json& j) { j["model_type"] = "qwen3_vl"; });
  expect_error([&] { load(unknown); }, {unknown + "/config.json", "model_type 'qwen3_vl'", "qwen2_5_vl"});
  auto sliding = edited_copy("sliding", [](nlohmann::json& j) { j["text_config"]["use_sliding_window"] = true; });
  expect_error([&] { load(sliding); }, {"config.json", "use_sliding_window"});
  auto yarn = edited_copy("yarn", [](nlohmann::json& j) { j["text_config"]["rope_scaling"] = {{"type", "yarn"}, {"factor", 4}}; });
  expect_error([&] { load(yarn); }, {"config.json", "rope_scaling", "yarn"});
  auto sections = edited_copy("sections", [](nlohmann::json& j) {
    j["text_config"]["rope_scaling"]["mrope_section"] = {2, 2, 2};
  });
  expect_error([&] { load(sections); }, {"config.json", "mrope_section sums to 6", "head_dim/2 = 8"});
  auto width = edited_copy("width", [](nlohmann::json& j) { j["vision_config"]["hidden_size"] = 32; });
  expect_error([&] { load(width); }, {"config.json", "merger's output width 32", "hidden_size 64"});
  auto heads = edited_copy("heads", [](nlohmann::json& j) { j["vision_config"]["num_heads"] = 0; });
  expect_error([&] { load(heads); }, {"config.json", "vision_config.num_heads 0"});
}

TEST(Qwen2VLBadInput, ImageTokenRunsAndContextAreChecked) {
  auto m = load(qwen_path("qwen2-vl"));
  torch::NoGradGuard ng;
  auto feats = m->image_features({picture(0, "qwen2-vl")});  // 6 image tokens
  std::vector<int64_t> three{501, 509, 512, 512, 512, 510, 502};
  expect_error([&] { m->merge_prompts({three}, feats, model::Padding::Left); }, {"run of 3 image tokens", "1 or 6"});
  std::vector<int64_t> two_images{501, 509, 512, 510, 509, 512, 510};
  expect_error([&] { m->merge_prompts({two_images}, feats, model::Padding::Left); }, {"more image markers than the 1"});
  std::vector<int64_t> long_prompt(3000, 65);
  expect_error([&] { m->merge_prompts({long_prompt}, {}, model::Padding::Left); },
               {"3000 tokens", "context of 2048", "max_position_embeddings"});
  EXPECT_THROW(image::smart_resize(2, 600, 28, 3136, 18816), std::runtime_error);
}
