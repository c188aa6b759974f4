// The `seva eval` runner: reads POPE, MMBench, VQA and CHAIR (descriptions of COCO-style annotated
// images) benchmarks, answers them with a model (batched, resumable, sharded over the ranks of a
// run) and scores them; or scores an existing answers file without a model. With --samples it also
// answers each question K times by sampling and scores the sampled answers beside the greedy ones.
#pragma once
#include "eval/chair.h"
#include "eval/mmbench.h"
#include "eval/pope.h"
#include "eval/vqa.h"
#include "generate/vlm.h"

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace seva::eval {

struct EvalOptions {
  // The model, with whatever ModelOptions carries (--adapter included), comes from Vlm::load;
  // eval adds nothing of its own to loading.
  generate::ModelOptions model;
  generate::SamplingOptions sampling = [] {  // 128 new tokens: LLaVA's evaluation scripts
    generate::SamplingOptions s;
    s.max_new_tokens = 128;
    return s;
  }();
  std::string pope, mmbench, vqa;  // benchmark files (at least one; "" = not run)
  // CHAIR: a COCO-style annotations folder (instances_SPLIT.json, captions_SPLIT.json).
  std::string chair;
  std::string chair_split = "val2014";
  std::string chair_vocabulary;                 // synonyms file; "" = the COCO table
  std::string wordnet = "/usr/share/wordnet";   // WordNet 3.0 dictionary (Debian's wordnet-base)
  int64_t chair_images = 500;                   // images described (0 = all): the fewest answer_seed(id)
  std::string describe_prompt = "Please describe this image in detail.";
  std::string images;              // where POPE, VQA and CHAIR image paths are resolved ("" = none given)
  std::string out;                 // run directory: BENCH/answers.jsonl, metrics.json, report.md ("" = print only)
  std::string answers;             // score this answers file instead of running a model ("" = run the model)
  std::string suffix;              // appended to POPE/VQA question texts after a newline ("" = none)
  int batch_size = 8;              // answers generated together
  bool single_pass = false;        // MMBench: ask round 0 only (no circular rotations)
  // Robustness under sampling: with samples > 0 the answers are greedy and each of the first
  // sample_questions questions (0 = all; MMBench: round 0) is also answered `samples` times at
  // `sampling`'s temperature.
  int samples = 0;
  int64_t sample_questions = 0;
};

// One benchmark file, read and validated before any model is loaded.
struct Benchmark {
  std::string name;  // pope, mmbench, vqa, chair: the key in metrics.json and the answers folder
  std::string file;
  std::vector<PopeQuestion> pope;
  std::vector<MmbenchQuestion> mmbench;
  std::vector<VqaQuestion> vqa;
  std::shared_ptr<const ChairBenchmark> chair;  // the annotations, shared by subsets
  std::vector<int64_t> chair_ids;                // the images described, in the order asked

  size_t size() const { return pope.size() + mmbench.size() + vqa.size() + chair_ids.size(); }
  // The first n questions (all when n is 0 or larger than the benchmark).
  Benchmark first(int64_t n) const;
  // Every answer key the benchmark asks for (MMBench: one per round).
  std::set<std::string> answer_keys(bool circular) const;
  // Scores answers (answer_key -> text). CHAIR also reports the mean generated length when every
  // answer has a `tokens` count, and fills `per_answer` (when given) with each answer's objects.
  ordered_json score(const std::map<std::string, std::string>& answers, const std::set<std::string>& missing_images,
                     const std::map<std::string, int64_t>& tokens = {},
                     std::vector<nlohmann::json>* per_answer = nullptr) const;
};

// The benchmark files the options name, in the order pope, mmbench, vqa, chair.
std::vector<Benchmark> read_benchmarks(const EvalOptions& o);

// One answer to produce: a question (and MMBench round) with its prompt and where its image is.
struct WorkItem {
  std::string key;                            // answer_key(question key, round)
  nlohmann::json question_id;                 // as the benchmark file has it
  int round = -1;                             // MMBench round; -1 for the others (no round_id written)
  std::string question;                       // the question given to the chat template
  std::string image_path;                     // a file, or
  const std::string* image_base64 = nullptr;  // an MMBench cell (points into the Benchmark)
  std::string question_key;
  int sample = -1;                            // a sampled answer's index (its key ends "@sample")
};

// The answers a benchmark asks for, in the order they are generated and written.
std::vector<WorkItem> work_items(const Benchmark& b, const EvalOptions& o);

// The per-answer sampling seed: FNV-1a of the answer key (from a fixed start state), so sampled
// answers depend neither on batch composition nor on resumption.
uint64_t answer_seed(const std::string& key);

// Runs `seva eval`: with --answers scores that file, else answers every benchmark into
// OUT/BENCH/answers.jsonl (resuming what is there) and writes metrics.json and report.md.
int run_eval(const EvalOptions& o);

}  // namespace seva::eval
