// The shim's trainer: train a tiny BPE model with byte fallback and round-trip text through it.
#include <gtest/gtest.h>

#include <fstream>

#include "test_helpers.h"
#include "text/sp_model.h"
#include "text/spm_train.h"
#include "text/tokenizer.h"
#include "text/tokenizer_files.h"

using namespace seva::text;

namespace {

std::string write_corpus(const std::string& dir) {
  const std::string path = dir + "/corpus.txt";
  std::ofstream out(path);
  for (int i = 0; i < 20; ++i)
    out << "the cat sat on the mat and the dog sat on the log\n"
           "a small model learns small pieces of plain text\n";
  return path;
}

}  // namespace

TEST(TextSpmTrain, TinyBpeRoundTrip) {
  const std::string dir = seva::test::temp_dir("spm_train");
  const std::string corpus = write_corpus(dir);
  train_sentencepiece("--input=" + corpus + " --model_prefix=" + dir +
                      "/m --vocab_size=300 --model_type=bpe --byte_fallback=true --character_coverage=1.0"
                      " --minloglevel=2");
  const SpModel m = SpModel::from_serialized(read_binary_file(dir + "/m.model"), dir + "/m.model");
  EXPECT_EQ(m.size(), 300);  // byte fallback alone takes 256 pieces
  const std::string text = "the cat sat on a mat, caf\xc3\xa9 \xf0\x9f\x99\x82";
  const auto pieces = m.encode(text);
  std::vector<int> ids;
  bool saw_byte = false;
  for (const auto& p : pieces) {
    ids.push_back(p.id);
    saw_byte = saw_byte || m.is_byte(p.id);
  }
  EXPECT_TRUE(saw_byte);  // é and the emoji are not in the corpus
  EXPECT_EQ(m.decode_ids(ids), text);
}

TEST(TextSpmTrain, ErrorsAreReported) {
  EXPECT_THROW(train_sentencepiece("--input=/nonexistent/x.txt --model_prefix=/nonexistent/m --vocab_size=50 --minloglevel=2"),
               std::runtime_error);
}

TEST(TextSpmTrain, WordModelRefusedByTokenizer) {
  const std::string dir = seva::test::temp_dir("spm_word");
  const std::string corpus = write_corpus(dir);
  train_sentencepiece("--input=" + corpus + " --model_prefix=" + dir +
                      "/tokenizer --vocab_size=15 --model_type=word --minloglevel=2");
  std::ofstream(dir + "/tokenizer_config.json") << "{\"legacy\": false}";
  try {
    Tokenizer::load(dir);
    FAIL() << "a WORD model was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("WORD"), std::string::npos) << e.what();
  }
}
