// LoRA: the PEFT adapter of the fixture gives transformers' logits; save/load/merge round trips.
#include "io/files.h"
#include "io/safetensors.h"
#include "model/checkpoint.h"
#include "model/lora.h"
#include "test_helpers.h"

#include <torch/torch.h>

using namespace seva;

namespace {
struct LoraFixture {
  io::SafetensorsFile tensors{test::fixture_path("lora_A.safetensors")};
  std::vector<int64_t> ids() const {
    auto t = tensors.get("lora.input_ids").view(-1);
    return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
  }
};
double max_diff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }
}  // namespace

TEST(Lora, PeftAdapterOnLanguageModelGivesPeftLogits) {
  LoraFixture f;
  auto m = model::load_llava(test::fixture_path("model_A"));
  auto cfg = model::load_adapter(*m, test::fixture_path("lora_A_adapter"));
  EXPECT_EQ(cfg.r, 8);
  EXPECT_DOUBLE_EQ(cfg.scaling(), 2.0);
  torch::NoGradGuard ng;
  auto px = f.tensors.get("lora.pixel_values");
  EXPECT_LT(max_diff(m->forward_logits({f.ids()}, px), f.tensors.get("lora.logits_with_adapter")), 1e-4);
  model::set_lora_enabled(*m, false);  // the base model, for the DPO reference
  EXPECT_LT(max_diff(m->forward_logits({f.ids()}, px), f.tensors.get("lora.logits_base")), 1e-4);
  model::set_lora_enabled(*m, true);
  model::merge_lora(*m);
  EXPECT_TRUE(model::lora_parameters(*m).empty());
  EXPECT_LT(max_diff(m->forward_logits({f.ids()}, px), f.tensors.get("lora.logits_merged")), 1e-4);
}

TEST(Lora, SaveLoadRoundTripUsesLlavaKeysAndSameLogits) {
  LoraFixture f;
  auto m = model::load_llava(test::fixture_path("model_A"));
  auto cfg = model::load_adapter(*m, test::fixture_path("lora_A_adapter"));
  auto dir = test::temp_dir("lora");
  model::save_adapter(*m, cfg, dir);
  io::SafetensorsFile saved(dir + "/adapter_model.safetensors");
  EXPECT_TRUE(saved.contains("base_model.model.language_model.model.layers.0.self_attn.q_proj.lora_A.weight"));
  EXPECT_EQ(saved.keys().size(), 28u);  // 2 layers × 7 modules × (A, B)
  auto j = io::read_json(dir + "/adapter_config.json");
  EXPECT_EQ(j["r"], 8);
  EXPECT_EQ(j["peft_type"], "LORA");
  auto m2 = model::load_llava(test::fixture_path("model_A"));
  model::load_adapter(*m2, dir);
  torch::NoGradGuard ng;
  auto px = f.tensors.get("lora.pixel_values");
  EXPECT_TRUE(torch::equal(m->forward_logits({f.ids()}, px), m2->forward_logits({f.ids()}, px)));
}

TEST(Lora, FreshAdapterIsANoOpAndOnlyAdaptersTrain) {
  auto m = model::load_llava(test::fixture_path("model_A"));
  model::LoraConfig cfg;
  cfg.r = 4;
  cfg.alpha = 8;
  auto trainable = model::add_lora(*m, cfg);
  EXPECT_EQ(trainable.size(), 28u);
  int64_t n_trainable = 0;
  for (auto& p : m->parameters())
    if (p.requires_grad()) n_trainable += p.numel();
  int64_t expected = 0;
  for (auto& t : trainable) expected += t.numel();
  EXPECT_EQ(n_trainable, expected);
  for (auto& [name, p] : model::lora_parameters(*m)) {
    if (name.find("lora_B") != std::string::npos) {
      EXPECT_EQ(p.abs().max().item<float>(), 0.0f) << name;
    }
  }
  // No adapter on lm_head, the vision tower or the projector.
  for (auto& [name, p] : model::lora_parameters(*m)) EXPECT_EQ(name.rfind("language_model.model.layers.", 0), 0u) << name;
}

TEST(Lora, AdapterWithWrongRankNamesTensorAndFile) {
  auto m = model::load_llava(test::fixture_path("model_A"));
  auto dir = test::temp_dir("lora_bad");
  auto j = io::read_json(test::fixture_path("lora_A_adapter/adapter_config.json"));
  j["r"] = 4;
  io::write_file_atomic(dir + "/adapter_config.json", j.dump());
  io::SafetensorsFile src(test::fixture_path("lora_A_adapter/adapter_model.safetensors"));
  std::vector<std::pair<std::string, torch::Tensor>> t;
  for (auto& k : src.keys()) t.emplace_back(k, src.get(k));
  io::save_safetensors(dir + "/adapter_model.safetensors", t);
  try {
    model::load_adapter(*m, dir);
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("adapter_model.safetensors"), std::string::npos) << msg;
    EXPECT_NE(msg.find("lora_"), std::string::npos) << msg;
  }
}

// PEFT matches target_modules by the last name component, so linear_1 / linear_2 put adapters on
// the projector (names only it has); they save under LLaVA's keys and load back.
TEST(Lora, ProjectorTargetsAdaptLinear1And2AndRoundTrip) {
  LoraFixture f;
  auto m = model::load_llava(test::fixture_path("model_A"));
  model::LoraConfig cfg;
  cfg.r = 4;
  cfg.alpha = 8;
  cfg.target_modules = {"q_proj", "linear_1", "linear_2"};
  EXPECT_TRUE(cfg.targets_projector());
  auto trainable = model::add_lora(*m, cfg);
  EXPECT_EQ(trainable.size(), 8u);  // 2 layers' q_proj + linear_1 + linear_2, × (A, B)
  int64_t projector = 0;
  torch::NoGradGuard ng;
  for (auto& [name, p] : model::lora_parameters(*m)) {
    projector += name.rfind("multi_modal_projector.linear_", 0) == 0;
    if (name.find("lora_B") != std::string::npos) p.normal_(0.0, 0.05);  // a trained adapter
  }
  EXPECT_EQ(projector, 4);
  auto px = f.tensors.get("lora.pixel_values");
  auto with = m->forward_logits({f.ids()}, px);
  model::set_lora_enabled(*m, false);
  EXPECT_GT(max_diff(with, m->forward_logits({f.ids()}, px)), 1e-4);
  model::set_lora_enabled(*m, true);
  auto dir = test::temp_dir("lora_projector");
  model::save_adapter(*m, cfg, dir);
  io::SafetensorsFile saved(dir + "/adapter_model.safetensors");
  EXPECT_TRUE(saved.contains("base_model.model.multi_modal_projector.linear_1.lora_A.weight"));
  EXPECT_TRUE(saved.contains("base_model.model.multi_modal_projector.linear_2.lora_B.weight"));
  auto m2 = model::load_llava(test::fixture_path("model_A"));
  model::load_adapter(*m2, dir);
  EXPECT_TRUE(torch::equal(with, m2->forward_logits({f.ids()}, px)));
  model::merge_lora(*m2);
  EXPECT_LT(max_diff(with, m2->forward_logits({f.ids()}, px)), 1e-4);
}

// seva sft --lora --train projector writes the projector whole beside the adapter, as LLaVA does;
// loading the adapter must bring it along (it used to be dropped without a word).
TEST(Lora, NonLoraTrainablesBesideTheAdapterAreLoaded) {
  auto dir = test::temp_dir("lora_extra");
  {
    auto m = model::load_llava(test::fixture_path("model_A"));
    auto cfg = model::load_adapter(*m, test::fixture_path("lora_A_adapter"));
    model::save_adapter(*m, cfg, dir);
  }
  auto base = model::load_llava(test::fixture_path("model_A"));
  auto w = base->multi_modal_projector->linear_1->weight.detach().clone() + 0.5;
  io::save_safetensors(dir + "/non_lora_trainables.safetensors", {{"multi_modal_projector.linear_1.weight", w}});
  auto m = model::load_llava(test::fixture_path("model_A"));
  model::load_adapter(*m, dir);
  EXPECT_TRUE(torch::equal(m->multi_modal_projector->linear_1->weight, w));
  EXPECT_FALSE(m->multi_modal_projector->linear_1->weight.requires_grad());
  io::save_safetensors(dir + "/non_lora_trainables.safetensors", {{"multi_modal_projector.linear_9.weight", w}});
  auto m3 = model::load_llava(test::fixture_path("model_A"));
  try {
    model::load_adapter(*m3, dir);
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("non_lora_trainables.safetensors"), std::string::npos) << msg;
    EXPECT_NE(msg.find("linear_9"), std::string::npos) << msg;
  }
}

TEST(LoraConfigJson, ARankThatIsNotAWholeNumberInRangeIsRefused) {
  for (const char* r : {"4.3e85", "0", "-3", "2.5", "\"8\"", "1048577"}) {
    auto j = nlohmann::json::parse(std::string("{\"r\": ") + r + "}");
    try {
      seva::model::LoraConfig::from_peft_json(j, "adapter_config.json");
      ADD_FAILURE() << "r " << r << " was accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("adapter_config.json: r "), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(seva::model::LoraConfig::from_peft_json(nlohmann::json::parse("{\"r\": 16.0}"), "a").r, 16);
  EXPECT_EQ(seva::model::LoraConfig::from_peft_json(nlohmann::json::parse("{}"), "a").r, 8);  // PEFT's default
}

// target_modules as a regular expression, from a file a stranger may have written.
TEST(LoraConfigJson, ARegexTargetIsBoundedBeforeStdRegexSeesIt) {
  auto config = [](const std::string& pattern) {
    return seva::model::LoraConfig::from_peft_json(nlohmann::json{{"r", 4}, {"target_modules", pattern}}, "adapter_config.json");
  };
  // fuzz_peft_adapter's input: a 69-digit backreference overflowed inside libstdc++'s parser.
  const std::string found = ".*language_mode#\\cord.layers\\.\\d+\\6666666666666666666666666666666666666666666666666666666"
                            "66666666666666.(self_attn|mlp)\\.(q_pro]|k_proj|v_proj|o_0roj|gate_proj|up_proj|down_proj)";
  for (const std::string& bad : {found, std::string("(a)\\1"), std::string("a{1001}"), std::string("a{2,99999999999999999999}"),
                                 std::string(1025, 'a'), std::string("(")}) {
    try {
      config(bad);
      ADD_FAILURE() << "accepted " << bad.substr(0, 60);
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()).rfind("adapter_config.json: target_modules '", 0), 0u) << e.what();
      EXPECT_LT(std::string(e.what()).size(), 400u);
    }
  }
  // PEFT's pattern for LLaVA's language model still selects every projection of every layer...
  auto m = model::load_llava(test::fixture_path("model_A"));
  const auto layers = m->language_model->model->cfg.num_hidden_layers;
  auto peft = config(".*language_model.*\\.layers\\.\\d+\\.(self_attn|mlp)\\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)");
  EXPECT_EQ(static_cast<int64_t>(model::lora_targets(*m, peft).size()), 7 * layers);
  EXPECT_EQ(config("a{2,1000}").target_regex, "a{2,1000}");
  EXPECT_EQ(config("x,12345").target_regex, "x,12345");  // a number outside {} is only text
  // ...and one that a backtracking matcher would take forever on finishes (polynomial matching).
  auto nested = config("(.*)*(.*)*(.*)*(.*)*(.*)*(.*)*(.*)*(.*)*(.*)*(.*)*x");
  EXPECT_TRUE(model::lora_targets(*m, nested).empty());
}
