// The decode modes of generate/decoder.h on the tiny LLaVA fixture: the fixed-shape steps a CUDA
// graph captures give what the default steps give, rows finishing apart included.
#include "generate/decoder.h"
#include "generate/generate.h"
#include "io/files.h"
#include "io/safetensors.h"
#include "model/checkpoint.h"
#include "test_helpers.h"

#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

using namespace seva;
using generate::DecodeMode;

namespace {

model::LlavaForConditionalGeneration model_a() { return model::load_llava(test::fixture_path("model_A")); }

// The fixture's three prompts (77, 16 and 47 tokens: each batch row is padded differently) with
// their images, and transformers' 20 greedy tokens for each.
struct Prompts {
  std::vector<std::vector<int64_t>> ids, greedy;
  std::vector<torch::Tensor> pixels;
  Prompts() {
    auto json = io::read_json(test::fixture_path("reference_A.json"));
    io::SafetensorsFile tensors(test::fixture_path("reference_A.safetensors"));
    const auto& cases = json["generate_single"];
    for (size_t i = 0; i < cases.size(); ++i) {
      ids.push_back(cases[i]["input_ids"].get<std::vector<int64_t>>());
      greedy.push_back(cases[i]["new_token_ids"].get<std::vector<int64_t>>());
      pixels.push_back(tensors.get("generate." + std::to_string(i) + ".pixel_values")[0]);
    }
  }
};

std::vector<generate::Generated> run(model::VisionLanguageModelImpl& m, const Prompts& p, generate::SamplingOptions o,
                                     DecodeMode mode, const std::vector<int64_t>& eos) {
  o.decode = mode;
  return generate::generate(m, p.ids, p.pixels, o, eos);
}

}  // namespace

TEST(DecodeModes, NamesReadBackAndUnknownOnesAreRefused) {
  for (auto mode : {DecodeMode::Dynamic, DecodeMode::Static, DecodeMode::CudaGraph})
    EXPECT_EQ(generate::parse_decode_mode(generate::decode_mode_name(mode)), mode);
  EXPECT_THROW(generate::parse_decode_mode("graph"), std::invalid_argument);
}

// Three rows that end at different steps: with the dynamic steps they leave the batch, with the
// static ones they stay in it; the tokens are transformers' greedy ones, cut at the first end token.
TEST(DecodeModes, StaticStepsGiveTheDynamicAnswersWhenRowsFinishApart) {
  auto m = model_a();
  Prompts p;
  ASSERT_EQ(p.greedy.size(), 3u);
  const std::vector<int64_t> eos{2, p.greedy[0][4], p.greedy[2][12]};
  generate::SamplingOptions o;
  o.max_new_tokens = 20;
  auto dynamic = run(*m, p, o, DecodeMode::Dynamic, eos);
  auto fixed = run(*m, p, o, DecodeMode::Static, eos);
  std::vector<size_t> lengths;
  for (size_t r = 0; r < 3; ++r) {
    auto want = p.greedy[r];
    auto end = std::find_first_of(want.begin(), want.end(), eos.begin(), eos.end());
    if (end != want.end()) want.erase(end + 1, want.end());
    lengths.push_back(want.size());
    EXPECT_EQ(dynamic[r].tokens, want) << "row " << r;
    EXPECT_EQ(fixed[r].tokens, want) << "row " << r;
    EXPECT_EQ(fixed[r].finish_reason, dynamic[r].finish_reason) << "row " << r;
    EXPECT_NEAR(fixed[r].logprob, dynamic[r].logprob, 1e-4) << "row " << r;
  }
  EXPECT_LE(lengths[0], 5u);
  EXPECT_NE(lengths[0], lengths[1]);  // the rows did finish apart
}

TEST(DecodeModes, StaticStepsSampleWhatTheDynamicStepsSample) {
  auto m = model_a();
  Prompts p;
  generate::SamplingOptions o;
  o.max_new_tokens = 12;
  o.temperature = 0.9;
  o.top_p = 0.95;
  o.seed = 7;
  auto dynamic = run(*m, p, o, DecodeMode::Dynamic, {2});
  auto fixed = run(*m, p, o, DecodeMode::Static, {2});
  for (size_t r = 0; r < dynamic.size(); ++r) {
    EXPECT_EQ(fixed[r].tokens, dynamic[r].tokens) << "row " << r;
    EXPECT_NEAR(fixed[r].logprob, dynamic[r].logprob, 1e-4) << "row " << r;
  }
}

// The steps alone, on a cache of random keys and values with a left-padded row: the logits of
// every step agree, after a row has left the batch too; a full cache is an error, not an overflow.
TEST(DecodeModes, StepLogitsAgreeAndAFullCacheIsRefused) {
  torch::manual_seed(3);
  auto m = model_a();
  auto& lm = *m->language_model;
  const int64_t B = 2, T = 5, steps = 3;
  auto start = [&] {
    auto cache = lm.model->make_cache(B, T + steps, torch::kFloat32, torch::kCPU);
    torch::manual_seed(4);
    for (auto& k : cache.k) k.narrow(2, 0, T).normal_();
    for (auto& v : cache.v) v.narrow(2, 0, T).normal_();
    cache.length = T;
    auto key_mask = torch::ones({B, T}, torch::kBool);
    key_mask[1].narrow(0, 0, 2).fill_(false);  // row 1: two positions of left padding
    return generate::DecodeStart{cache, key_mask, torch::tensor({T, T - 2}, torch::kInt64)};
  };
  auto dynamic = generate::make_decoder(lm, start(), DecodeMode::Dynamic);
  auto fixed = generate::make_decoder(lm, start(), DecodeMode::Static);
  const std::vector<std::vector<int64_t>> rows{{0, 1}, {0, 1}, {1}};
  const std::vector<std::vector<int64_t>> tokens{{7, 9}, {11, 13}, {17}};
  for (size_t s = 0; s < rows.size(); ++s) {
    auto a = dynamic->step(rows[s], tokens[s]), b = fixed->step(rows[s], tokens[s]);
    ASSERT_EQ(a.sizes(), b.sizes());
    EXPECT_EQ(a.size(0), static_cast<int64_t>(rows[s].size()));
    EXPECT_LT((a - b).abs().max().item<double>(), 1e-5) << "step " << s;
  }
  try {
    fixed->step({1}, {19});
    ADD_FAILURE() << "a step past the cache's capacity ran";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("KV cache is full"), std::string::npos) << e.what();
  }
  EXPECT_THROW(dynamic->step({0, 1}, {1, 2}), std::invalid_argument);  // row 0 left the batch
}

TEST(DecodeModes, CudaGraphsOnTheCpuAreRefusedInOneLine) {
  auto m = model_a();
  Prompts p;
  generate::SamplingOptions o;
  o.max_new_tokens = 3;
  try {
    run(*m, p, o, DecodeMode::CudaGraph, {2});
    ADD_FAILURE() << "cuda-graph decoding ran on the CPU";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("--decode cuda-graph", 0), 0u) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

// On a GPU the captured graph replays what the eager steps compute: the same tokens as the
// dynamic steps, for rows that finish apart too. Runs where a CUDA device is (scripts/gpu-check.sh).
TEST(DecodeModes, CudaGraphGivesTheDynamicAnswersOnTheGpu) {
  if (!generate::cuda_graphs_built()) GTEST_SKIP() << "built against a libtorch without CUDA";
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device here";
  auto m = model_a();
  m->to(torch::kCUDA);
  Prompts p;
  const std::vector<int64_t> eos{2, p.greedy[0][4], p.greedy[2][12]};
  generate::SamplingOptions o;
  o.max_new_tokens = 20;
  auto dynamic = run(*m, p, o, DecodeMode::Dynamic, eos);
  auto graph = run(*m, p, o, DecodeMode::CudaGraph, eos);
  for (size_t r = 0; r < dynamic.size(); ++r) {
    EXPECT_EQ(graph[r].tokens, dynamic[r].tokens) << "row " << r;
    EXPECT_NEAR(graph[r].logprob, dynamic[r].logprob, 1e-3) << "row " << r;
  }
  // Batch 1, the case graphs are for, twice in a row (a fresh capture each call).
  o.decode = DecodeMode::CudaGraph;
  for (int call = 0; call < 2; ++call) {
    auto one = generate::generate(*m, {p.ids[1]}, {p.pixels[1]}, o, {2});
    EXPECT_EQ(one[0].tokens, p.greedy[1]) << "call " << call;
  }
}
