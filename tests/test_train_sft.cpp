// `seva sft` on the tiny fixture model: label masking of multi-turn dialogues, the loss going
// down, training only the chosen parts, LoRA output, and malformed entries.
#include "generate/vlm.h"
#include "io/files.h"
#include "io/jsonl.h"
#include "model/checkpoint.h"
#include "test_helpers.h"
#include "text/conversation.h"
#include "text/tokenizer.h"
#include "train/sft.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

using namespace seva;

namespace {

nlohmann::json turn(const char* from, const std::string& value) { return {{"from", from}, {"value", value}}; }

std::string write_data(const std::string& dir) {
  nlohmann::json all = nlohmann::json::array();
  all.push_back({{"id", "a"}, {"image", "img0_97x61.png"},
                 {"conversations", {turn("human", "<image>\nWhat colour is the shape?"), turn("gpt", "A blue circle."),
                                    turn("human", "How many are there?"), turn("gpt", "One.")}}});
  all.push_back({{"id", "b"}, {"image", "img1_40x120.jpg"},
                 {"conversations", {turn("human", "Describe the image.\n<image>"), turn("gpt", "Red stripes on white.")}}});
  all.push_back({{"id", "c"}, {"image", "img2_64x64.png"},
                 {"conversations", {turn("human", "<image>\nIs it square?"), turn("gpt", "Yes, it is square.")}}});
  all.push_back({{"id", "text-only"}, {"conversations", {turn("human", "Hi"), turn("gpt", "Hello.")}}});
  std::string path = dir + "/sft.json";
  io::write_file_atomic(path, all.dump(1));
  return path;
}

train::SftOptions options(const std::string& dir) {
  train::SftOptions o;
  o.model.model_dir = test::fixture_path("model_A");
  o.model.threads = 2;
  o.data = {write_data(dir)};
  o.images = test::fixture_path("images");
  o.loop.out = dir + "/run";
  o.loop.lr = 1e-2;
  o.loop.warmup_ratio = 0;
  o.loop.batch_size = 4;
  o.loop.micro_batch_size = 2;
  o.loop.epochs = 6;
  o.loop.quiet = true;
  return o;
}

std::map<std::string, torch::Tensor> params_of(model::LlavaForConditionalGenerationImpl& m) {
  std::map<std::string, torch::Tensor> out;
  for (auto& item : m.named_parameters(true)) out[item.key()] = item.value().detach().clone();
  return out;
}

}  // namespace

TEST(Sft, TwoTurnDialogueLabelsExactlyTheAnswersAndTheirEos) {
  auto tok = text::Tokenizer::load(test::fixture_path("model_A"));
  train::SftExample ex;
  ex.source = "test";
  ex.turns = {{"<image>\nWhat colour is the shape?", "A blue circle."}, {"How many are there?", "One."}};
  auto t = train::tokenize_dialogue(tok, text::ChatTemplate(), ex);
  ASSERT_EQ(t.ids.size(), t.labels.size());
  EXPECT_EQ(train::sft_conversation_text(text::ChatTemplate(), ex),
            std::string(text::kLlavaV1System) +
                " USER: <image>\nWhat colour is the shape? ASSISTANT: A blue circle.</s>USER: How many are there? "
                "ASSISTANT: One.</s>");
  // The labelled runs, in order.
  std::vector<std::vector<int64_t>> runs;
  for (size_t j = 0; j < t.ids.size(); ++j)
    if (t.labels[j]) {
      if (j == 0 || !t.labels[j - 1]) runs.emplace_back();
      runs.back().push_back(t.ids[j]);
    }
  ASSERT_EQ(runs.size(), 2u);
  // By hand: each answer's own tokens (sentencepiece, no BOS) then EOS.
  auto a1 = tok.encode("A blue circle.", false), a2 = tok.encode("One.", false);
  a1.push_back(tok.eos_id());
  a2.push_back(tok.eos_id());
  EXPECT_EQ(runs[0], a1);
  EXPECT_EQ(runs[1], a2);
  // The first run starts right after the first prompt's tokens; nothing of the prompts is labelled.
  auto p1 = tok.encode(text::ChatTemplate().prompt("What colour is the shape?"));
  ASSERT_LT(p1.size(), t.ids.size());
  EXPECT_TRUE(std::equal(p1.begin(), p1.end(), t.ids.begin()));
  EXPECT_TRUE(t.labels[p1.size()]);
  EXPECT_FALSE(t.labels[p1.size() - 1]);
  EXPECT_EQ(t.label_count(), static_cast<int64_t>(a1.size() + a2.size()));
  std::vector<int64_t> unlabelled;
  for (size_t j = 0; j < t.ids.size(); ++j)
    if (!t.labels[j]) unlabelled.push_back(t.ids[j]);
  EXPECT_NE(tok.decode(unlabelled, true).find("USER: How many are there? ASSISTANT:"), std::string::npos);
  EXPECT_EQ(std::count(t.ids.begin(), t.ids.end(), tok.image_token_id()), 1);
}

TEST(Sft, ImageMarkerIsMovedFirstAndTextOnlyEntriesAreSkipped) {
  auto dir = test::temp_dir("sft_read");
  int64_t skipped = 0;
  auto data = train::read_sft_data(write_data(dir), &skipped);
  ASSERT_EQ(data.size(), 3u);
  EXPECT_EQ(skipped, 1);
  EXPECT_EQ(data[0].turns.size(), 2u);
  EXPECT_EQ(data[1].turns[0].first, "<image>\nDescribe the image.");
}

TEST(Sft, FewStepsLowerTheLoss) {
  auto o = options(test::temp_dir("sft_loss"));
  o.train = {"projector", "language"};
  EXPECT_EQ(train::train_sft(o), 5);  // 3 entries with an image x 6 epochs, batch 4
  auto rows = io::read_jsonl(o.loop.out + "/metrics.jsonl");
  ASSERT_EQ(rows.size(), 5u);
  double first = rows.front()["loss"].get<double>(), last = rows.back()["loss"].get<double>();
  EXPECT_TRUE(std::isfinite(first));
  EXPECT_GT(first, 1.0);  // a random tiny model knows nothing of these answers
  EXPECT_LT(last, 0.8 * first) << "first " << first << " last " << last;
  EXPECT_GT(rows[0]["tokens_per_s"].get<double>(), 0.0);
  EXPECT_GT(rows[0]["tokens"].get<int64_t>(), 0);
  EXPECT_TRUE(io::file_exists(o.loop.out + "/model/config.json"));
  EXPECT_TRUE(io::file_exists(o.loop.out + "/model/tokenizer.model"));
  EXPECT_TRUE(io::file_exists(o.loop.out + "/model/preprocessor_config.json"));
  EXPECT_TRUE(io::file_exists(o.loop.out + "/checkpoint/state.json"));
}

TEST(Sft, SeveralDataFilesAreOneMixture) {
  auto dir = test::temp_dir("sft_mix");
  auto o = options(dir);
  nlohmann::json more = nlohmann::json::array();
  for (const char* id : {"d", "e"})
    more.push_back({{"id", id}, {"image", "img2_64x64.png"},
                    {"conversations", {turn("human", "<image>\nWhat is it?"), turn("gpt", "A square.")}}});
  const std::string second = dir + "/more.json";
  io::write_file_atomic(second, more.dump());
  o.data.push_back(second);
  o.train = {"projector"};
  o.loop.epochs = 2;
  // 3 + 2 entries with an image x 2 epochs = 10 examples, batch 4: three steps (the first file
  // alone: 6 examples, two steps).
  EXPECT_EQ(train::train_sft(o), 3);
  // A file with no entry that has an image is named, not silently dropped from the mixture.
  const std::string text_only = dir + "/text.json";
  io::write_file_atomic(text_only, R"([{"id": "t", "conversations": [{"from": "human", "value": "Hi"}, )"
                                   R"({"from": "gpt", "value": "Hello."}]}])");
  o.data.push_back(text_only);
  o.loop.out = dir + "/run2";
  try {
    train::train_sft(o);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(text_only), std::string::npos) << e.what();
  }
}

TEST(Sft, TrainingTheProjectorChangesOnlyProjectorWeights) {
  auto o = options(test::temp_dir("sft_projector"));
  o.train = {"projector"};
  o.loop.epochs = 1;
  train::train_sft(o);
  auto before = model::load_llava(o.model.model_dir);
  auto after = model::load_llava(o.loop.out + "/model");
  auto a = params_of(*after);
  int changed = 0;
  for (auto& [name, t] : params_of(*before)) {
    ASSERT_TRUE(a.count(name)) << name;
    bool same = torch::equal(t, a[name]);
    if (name.rfind("multi_modal_projector.", 0) == 0) {
      changed += !same;
    } else {
      EXPECT_TRUE(same) << name << " changed";
    }
  }
  EXPECT_GT(changed, 0);
}

TEST(Sft, TrainingTheVisionTowerGivesItGradients) {
  auto o = options(test::temp_dir("sft_vision"));
  o.train = {"vision"};
  o.loop.epochs = 1;
  train::train_sft(o);
  auto before = params_of(*model::load_llava(o.model.model_dir));
  auto a = params_of(*model::load_llava(o.loop.out + "/model"));
  int vision_changed = 0;
  for (auto& [name, t] : before) {
    bool same = torch::equal(t, a[name]);
    if (name.rfind("vision_tower.", 0) == 0) vision_changed += !same;
    else EXPECT_TRUE(same) << name << " changed";
  }
  EXPECT_GT(vision_changed, 0);
}

TEST(Sft, LoraWritesAPeftAdapter) {
  auto o = options(test::temp_dir("sft_lora"));
  o.lora = true;
  o.lora_config.r = 4;
  o.lora_config.alpha = 8;
  o.train = {"projector"};
  o.loop.epochs = 2;
  EXPECT_EQ(train::train_sft(o), 2);
  EXPECT_TRUE(io::file_exists(o.loop.out + "/adapter/adapter_config.json"));
  EXPECT_TRUE(io::file_exists(o.loop.out + "/adapter/adapter_model.safetensors"));
  EXPECT_TRUE(io::file_exists(o.loop.out + "/adapter/non_lora_trainables.safetensors"));
  EXPECT_FALSE(io::file_exists(o.loop.out + "/model/config.json"));
}

TEST(Sft, MalformedEntryNamesFileAndEntry) {
  auto dir = test::temp_dir("sft_bad");
  std::string path = dir + "/bad.json";
  nlohmann::json all = nlohmann::json::array();
  all.push_back({{"id", "ok"}, {"image", "img0_97x61.png"},
                 {"conversations", {turn("human", "<image>\nQ"), turn("gpt", "A")}}});
  all.push_back({{"id", "broken"}, {"image", "img0_97x61.png"},
                 {"conversations", {turn("gpt", "A"), turn("human", "<image>\nQ")}}});
  io::write_file_atomic(path, all.dump());
  try {
    train::read_sft_data(path);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find("entry 1"), std::string::npos) << msg;
    EXPECT_NE(msg.find("broken"), std::string::npos) << msg;
  }
  io::write_file_atomic(path, R"([{"id": "x", "image": "a.png", "conversations": "nope"}])");
  EXPECT_THROW(train::read_sft_data(path), std::runtime_error);
  io::write_file_atomic(path, R"([{"id": "x", "image": "a.png", "conversations": [)");
  try {
    train::read_sft_data(path);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
  }
}

namespace {
std::map<std::string, torch::Tensor> tensors_in(const std::string& dir, const std::string& file) {
  io::SafetensorsFile f(dir + "/" + file);
  std::map<std::string, torch::Tensor> out;
  for (const auto& k : f.keys()) out[k] = f.get(k, torch::kFloat32);
  return out;
}
void expect_same_tensors(const std::map<std::string, torch::Tensor>& a, const std::map<std::string, torch::Tensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  int moved = 0;
  for (auto& [k, t] : a) {
    ASSERT_TRUE(b.count(k)) << k;
    EXPECT_LE((t - b.at(k)).abs().max().item<double>(), 1e-6) << k;
    moved += t.abs().max().item<double>() > 0;
  }
  EXPECT_GT(moved, 0);
}
}  // namespace

TEST(Sft, ResumeEqualsUninterrupted) {
  auto full = options(test::temp_dir("sft_full"));
  full.train = {"projector", "language"};
  full.loop.epochs = 3;  // 9 examples, batch 4: 3 steps
  full.model.threads = 1;
  EXPECT_EQ(train::train_sft(full), 3);
  auto cut = options(test::temp_dir("sft_cut"));
  cut.train = full.train;
  cut.loop.epochs = 3;
  cut.model.threads = 1;
  cut.loop.max_steps = 2;  // "killed" after two steps, with its checkpoint
  train::train_sft(cut);
  cut.loop.max_steps = -1;
  cut.loop.resume = true;
  EXPECT_EQ(train::train_sft(cut), 3);
  expect_same_tensors(tensors_in(full.loop.out + "/model", "model.safetensors"), tensors_in(cut.loop.out + "/model", "model.safetensors"));
  auto rows = io::read_jsonl(cut.loop.out + "/metrics.jsonl");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[2]["step"], 3);
  EXPECT_NEAR(rows[2]["loss"].get<double>(), io::read_jsonl(full.loop.out + "/metrics.jsonl")[2]["loss"].get<double>(), 1e-6);
}

TEST(Sft, Bf16LoraResumeKeepsFloat32AdaptersAndMasters) {
  auto make = [](const std::string& name) {
    auto o = options(test::temp_dir(name));
    o.lora = true;
    o.lora_config.r = 4;
    o.lora_config.alpha = 8;
    o.train = {"projector"};  // fully trained in bf16: through float32 masters
    o.loop.epochs = 3;
    o.bf16 = true;
    o.model.threads = 1;
    return o;
  };
  auto full = make("sft_bf16_full");
  EXPECT_EQ(train::train_sft(full), 3);
  auto cut = make("sft_bf16_cut");
  cut.loop.max_steps = 1;
  train::train_sft(cut);
  EXPECT_TRUE(io::file_exists(cut.loop.out + "/checkpoint/masters.safetensors"));
  cut.loop.max_steps = -1;
  cut.loop.resume = true;
  EXPECT_EQ(train::train_sft(cut), 3);
  io::SafetensorsFile f(full.loop.out + "/adapter/adapter_model.safetensors");
  for (const auto& k : f.keys()) EXPECT_EQ(f.info(k).dtype, "F32") << k;
  expect_same_tensors(tensors_in(full.loop.out + "/adapter", "adapter_model.safetensors"),
                      tensors_in(cut.loop.out + "/adapter", "adapter_model.safetensors"));
  expect_same_tensors(tensors_in(full.loop.out + "/adapter", "non_lora_trainables.safetensors"),
                      tensors_in(cut.loop.out + "/adapter", "non_lora_trainables.safetensors"));
}
