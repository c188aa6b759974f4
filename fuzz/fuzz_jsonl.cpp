// libFuzzer target: the data-file readers. Input byte 0 picks the reader; the rest is the file.
//   0: preference pairs (train::read_pairs)   1: POPE questions   2: VQA questions
//   3: MMBench TSV, each row's base64 image decoded as eval does
//   4: a LLaVA-665k instruction file (seva sample)   5: generated answers (seva pair), then pairing
//   6: seva sft's conversations (a JSON array or JSONL)   7: seva generate's questions
#include "eval/base64.h"
#include "eval/mmbench.h"
#include "eval/pope.h"
#include "eval/vqa.h"
#include "fuzz_common.h"
#include "image/decode.h"
#include "method/pairs.h"
#include "method/questions.h"
#include "method/sample.h"
#include "train/pairs.h"
#include "train/sft_data.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string& dir = seva_fuzz::scratch_dir();
  try {
    switch (data[0] % 8) {
      case 0:
        (void)seva::train::read_pairs(seva_fuzz::write_file(dir, "pairs.jsonl", bytes));
        break;
      case 1:
        (void)seva::eval::read_pope_questions(seva_fuzz::write_file(dir, "pope.jsonl", bytes));
        break;
      case 2:
        (void)seva::eval::read_vqa_questions(seva_fuzz::write_file(dir, "vqa.jsonl", bytes));
        break;
      case 3:
        for (const auto& q : seva::eval::read_mmbench(seva_fuzz::write_file(dir, "mmbench.tsv", bytes))) {
          for (int r = 0; r < static_cast<int>(q.options.size()); ++r) {
            (void)seva::eval::mmbench_prompt(q, r);
            (void)seva::eval::mmbench_round_answer(q, r);
          }
          try {
            (void)seva::image::decode_image_bytes(seva::eval::base64_decode(q.image_base64, "image"), "image");
          } catch (const std::exception&) {
          }
        }
        break;
      case 4: {
        seva::method::SampleOptions o;
        o.instructions = seva_fuzz::write_file(dir, "llava_665k.json", bytes);
        o.count = 8;
        (void)seva::method::sample_questions(o, nullptr);
        break;
      }
      case 5: {
        auto rows = seva::method::read_answers(seva_fuzz::write_file(dir, "answers.jsonl", bytes));
        (void)seva::method::make_pairs(rows, seva::method::PairOptions{});
        break;
      }
      case 6:
        (void)seva::train::read_sft_data(seva_fuzz::write_file(dir, "sft.json", bytes));
        break;
      case 7:
        (void)seva::method::read_questions(seva_fuzz::write_file(dir, "questions.jsonl", bytes));
        break;
    }
  } catch (const std::exception&) {
  }
  return 0;
}
