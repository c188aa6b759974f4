// seva's own threads: the world writer's worker pool, and one tokenizer shared by several threads
// (its BPE word cache is filled under a lock). Needs no libtorch: scripts/check-threads.sh builds
// this file alone under ThreadSanitizer, where a data race fails it.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "synth/world.h"
#include "test_helpers.h"
#include "text/tokenizer.h"

using namespace seva;

namespace {

synth::WorldOptions tiny_world(const std::string& dir, int threads) {
  synth::WorldOptions o;
  o.out = dir;
  o.seed = 11;
  o.train = 16;
  o.pool = 12;
  o.bench = 20;
  o.describe = 5;
  o.threads = threads;
  o.quiet = true;
  return o;
}

// Texts with many distinct words, so the threads fill the word cache while others read it.
std::vector<std::string> varied_texts() {
  const char* words[] = {"red", "circle", "zebra", "Über", "naïve", "12345", "<image>", "déjà", "vu",
                         "  spaced", "\ttab", "emoji\xf0\x9f\x98\x80", "ok!", "why?", "x_y-z"};
  std::vector<std::string> out;
  for (int i = 0; i < 200; ++i) {
    std::string t;
    for (int j = 0; j < 6; ++j) t += std::string(words[(i * 7 + j * 3) % 15]) + std::to_string(i % (j + 2)) + " ";
    out.push_back(t);
  }
  return out;
}

// Encodes every text from `threads` threads at once (each from its own start) with one tokenizer;
// each thread's ids must equal a separately loaded tokenizer's, encoding one text at a time.
void expect_shared_encoding_matches(const std::string& dir, int threads) {
  const std::vector<std::string> texts = varied_texts();
  const text::Tokenizer alone = text::Tokenizer::load(dir);
  std::vector<std::vector<int64_t>> expected;
  for (const auto& t : texts) expected.push_back(alone.encode(t));

  const text::Tokenizer shared = text::Tokenizer::load(dir);
  std::vector<std::vector<std::vector<int64_t>>> got(threads, std::vector<std::vector<int64_t>>(texts.size()));
  std::vector<std::thread> pool;
  for (int k = 0; k < threads; ++k)
    pool.emplace_back([&, k] {
      for (size_t i = 0; i < texts.size(); ++i) {
        const size_t at = (i + k * texts.size() / threads) % texts.size();
        got[k][at] = shared.encode(texts[at]);
      }
    });
  for (auto& t : pool) t.join();
  for (int k = 0; k < threads; ++k)
    for (size_t i = 0; i < texts.size(); ++i) EXPECT_EQ(got[k][i], expected[i]) << "thread " << k << ", text " << i;
}

}  // namespace

TEST(Threads, AWorldWrittenByFourWorkersEqualsOneWorkersWorld) {
  const std::string a = test::temp_dir("threads_world_1"), b = test::temp_dir("threads_world_4");
  synth::write_world(tiny_world(a, 1));
  synth::write_world(tiny_world(b, 4));
  const auto one = test::read_tree(a), four = test::read_tree(b);
  ASSERT_EQ(one.size(), 16u + 12u + 20u + 12u + 3u);  // images, the 12 files and chair/'s 3
  EXPECT_TRUE(one == four);
}

TEST(Threads, OneByteLevelBpeTokenizerSharedByFourThreadsEncodesAsOneDoes) {
  expect_shared_encoding_matches(test::data_path("qwen2-vl-tiny/qwen2-vl"), 4);
}

TEST(Threads, OneSentencepieceTokenizerSharedByFourThreadsEncodesAsOneDoes) {
  expect_shared_encoding_matches(test::fixture_path("tokenizer"), 4);
}
