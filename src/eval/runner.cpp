#include "eval/runner.h"

#include "dist/answer_job.h"
#include "dist/dist.h"
#include "eval/answers.h"
#include "eval/base64.h"
#include "eval/report.h"
#include "eval/sampling.h"
#include "image/decode.h"
#include "io/files.h"
#include "util/strings.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <type_traits>

namespace seva::eval {

std::set<std::string> Benchmark::answer_keys(bool circular) const {
  std::set<std::string> keys;
  for (const auto& q : pope) keys.insert(q.key);
  for (const auto& q : vqa) keys.insert(q.key);
  for (const auto& q : mmbench)
    for (int r = 0; r < mmbench_rounds(q, circular); ++r) keys.insert(answer_key(q.key, r));
  for (int64_t id : chair_ids) keys.insert(std::to_string(id));
  return keys;
}

Benchmark Benchmark::first(int64_t n) const {
  Benchmark b;
  b.name = name;
  b.file = file;
  b.chair = chair;
  // Copies only the questions kept: MMBench rows carry their images.
  auto head = [n](const auto& v) {
    const size_t k = n > 0 ? std::min(static_cast<size_t>(n), v.size()) : v.size();
    return std::decay_t<decltype(v)>(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k));
  };
  b.pope = head(pope);
  b.mmbench = head(mmbench);
  b.vqa = head(vqa);
  b.chair_ids = head(chair_ids);
  return b;
}

namespace {

// The image id a CHAIR answer key names (keys are the decimal ids the runner writes; an answers
// file may hold others, which are not CHAIR answers of this benchmark).
bool chair_id_of(const std::string& key, int64_t& id) {
  if (key.empty() || key.size() > 18) return false;
  for (char c : key)
    if (c < '0' || c > '9') return false;
  id = std::stoll(key);
  return true;
}

ordered_json score_chair_answers(const Benchmark& b, const std::map<std::string, std::string>& answers,
                                 const std::set<std::string>& missing_images,
                                 const std::map<std::string, int64_t>& tokens, std::vector<nlohmann::json>* per_answer) {
  const std::set<int64_t> asked(b.chair_ids.begin(), b.chair_ids.end());
  std::vector<ChairAnswer> rows;
  for (int64_t id : b.chair_ids) {
    auto it = answers.find(std::to_string(id));
    if (it == answers.end()) continue;
    auto t = tokens.find(it->first);
    rows.push_back({id, it->second, t == tokens.end() ? -1 : t->second});
  }
  std::set<int64_t> missing;
  for (const auto& key : missing_images) {
    int64_t id = 0;
    if (chair_id_of(key, id) && asked.count(id)) missing.insert(id);
  }
  return score_chair(*b.chair, rows, b.chair_ids, missing, per_answer);
}

}  // namespace

ordered_json Benchmark::score(const std::map<std::string, std::string>& answers,
                              const std::set<std::string>& missing_images, const std::map<std::string, int64_t>& tokens,
                              std::vector<nlohmann::json>* per_answer) const {
  if (name == "pope") return score_pope(pope, answers, missing_images);
  if (name == "mmbench") return score_mmbench(mmbench, answers, missing_images);
  if (name == "chair") return score_chair_answers(*this, answers, missing_images, tokens, per_answer);
  return score_vqa(vqa, answers, missing_images);
}

// The images a CHAIR run describes: all, or the n whose answer_seed(id) is smallest (a fixed
// sample that does not depend on the order of the annotation file), in id order.
std::vector<int64_t> chair_sample(const ChairBenchmark& c, int64_t n) {
  std::vector<int64_t> ids;
  for (const auto& img : c.images) ids.push_back(img.id);
  if (n > 0 && static_cast<size_t>(n) < ids.size()) {
    std::vector<std::pair<uint64_t, int64_t>> by_seed;
    for (int64_t id : ids) by_seed.emplace_back(answer_seed(std::to_string(id)), id);
    std::nth_element(by_seed.begin(), by_seed.begin() + n, by_seed.end());
    ids.clear();
    for (int64_t i = 0; i < n; ++i) ids.push_back(by_seed[static_cast<size_t>(i)].second);
    std::sort(ids.begin(), ids.end());
  }
  return ids;
}

std::vector<Benchmark> read_benchmarks(const EvalOptions& o) {
  auto named = [](const char* name, const std::string& file) {
    Benchmark b;
    b.name = name;
    b.file = file;
    return b;
  };
  std::vector<Benchmark> out;
  if (!o.pope.empty()) {
    out.push_back(named("pope", o.pope));
    out.back().pope = read_pope_questions(o.pope);
  }
  if (!o.mmbench.empty()) {
    out.push_back(named("mmbench", o.mmbench));
    out.back().mmbench = read_mmbench(o.mmbench);
  }
  if (!o.vqa.empty()) {
    out.push_back(named("vqa", o.vqa));
    out.back().vqa = read_vqa_questions(o.vqa);
  }
  if (!o.chair.empty()) {
    out.push_back(named("chair", o.chair));
    auto c = std::make_shared<ChairBenchmark>(read_chair_benchmark(o.chair, o.chair_split, o.chair_vocabulary, o.wordnet));
    out.back().chair_ids = chair_sample(*c, o.chair_images);
    out.back().chair = std::move(c);
  }
  return out;
}

std::vector<WorkItem> work_items(const Benchmark& b, const EvalOptions& o) {
  std::vector<WorkItem> items;
  auto with_suffix = [&](const std::string& text) { return o.suffix.empty() ? text : text + "\n" + o.suffix; };
  for (const auto& q : b.pope)
    items.push_back({q.key, q.question_id, -1, with_suffix(q.text), io::join_path(o.images, q.image), nullptr, q.key});
  for (const auto& q : b.vqa)
    items.push_back({q.key, q.question_id, -1, with_suffix(q.text), io::join_path(o.images, q.image), nullptr, q.key});
  for (const auto& q : b.mmbench)
    for (int r = 0; r < mmbench_rounds(q, !o.single_pass); ++r)
      items.push_back({answer_key(q.key, r), q.question_id, r, mmbench_prompt(q, r), "", &q.image_base64, q.key});
  for (int64_t id : b.chair_ids) {
    const std::string key = std::to_string(id);
    const auto& img = b.chair->images[b.chair->index_of.at(id)];
    items.push_back({key, id, -1, o.describe_prompt, io::join_path(o.images, img.file_name), nullptr, key});
  }
  return items;
}

// From the short basis, not the standard one: the seeds, and so every sampled answer, depend on it.
uint64_t answer_seed(const std::string& key) { return util::fnv1a(key, util::kFnv1aShortBasis); }

namespace {

// What identifies an answers.jsonl row (AnswerRow::row_key); throws for a malformed row (the
// answering job adds the file and line).
std::string answer_row_key(const nlohmann::json& row) { return parse_answer_row(row, "answer row").row_key(); }

// The question key of a skipped.jsonl row ({"question_id", "reason"}); the whole row when it has none.
std::string skip_row_key(const nlohmann::json& row) {
  try {
    return question_key(row.at("question_id"), "skipped row");
  } catch (const std::exception&) {
    return row.dump();
  }
}

// One file of answers to a benchmark: its greedy (or --temperature) answers, or the samples at
// one temperature.
struct AnswerPass {
  std::string file;                   // answers.jsonl, samples_T1.jsonl
  std::string skipped_file;           // skipped.jsonl, samples_T1.skipped.jsonl
  generate::SamplingOptions sampling;
  std::vector<WorkItem> items;
};

// Answers one pass of a benchmark into DIR/FILE with the answering job (dist/answer_job.h): every
// work item not answered yet, in fixed batches of the pending items.
class BenchmarkAnswerer {
 public:
  BenchmarkAnswerer(generate::Vlm& vlm, const Benchmark& b, const EvalOptions& o, const std::string& dir,
                    AnswerPass pass)
      : vlm_(vlm), b_(b), o_(o), pass_(std::move(pass)), items_(pass_.items), job_(job_options(dir), std::cerr) {
    model_id_ = std::filesystem::path(o.model.model_dir).filename().string();
  }

  // Returns the question keys whose image is missing or unreadable (on any rank).
  std::set<std::string> run() {
    select_pending();
    std::cerr << "seva eval " << b_.name << ": " << items_.size() << " answers asked, " << job_.finished_count()
              << " already in " << answers_path_ << ", " << pending_.size() << " to generate\n";
    job_.run(
        pending_.size(), [](size_t) { return true; }, [this](size_t b0, size_t b1) { return answer(b0, b1); });
    const size_t recorded = job_.skips_recorded();
    job_.finish();
    if (recorded)
      std::cerr << "seva eval " << b_.name << ": " << recorded << " questions skipped (missing or unreadable image), "
                << "listed in " << skipped_path_ << "\n";
    std::set<std::string> missing = job_.skip_keys();
    missing.insert(missing_.begin(), missing_.end());
    return missing;
  }

 private:
  dist::AnswerJobOptions job_options(const std::string& dir) {
    answers_path_ = io::join_path(dir, pass_.file);
    skipped_path_ = io::join_path(dir, pass_.skipped_file);
    for (size_t i = 0; i < items_.size(); ++i) position_.emplace(items_[i].key, static_cast<int64_t>(i));
    auto position_of = [this](const std::string& key) {
      auto it = position_.find(key);
      return it == position_.end() ? INT64_MAX : it->second;
    };
    dist::AnswerJobOptions j;
    j.answers_path = answers_path_;
    j.skipped_path = skipped_path_;
    j.answers = {answer_row_key, [position_of](const nlohmann::json& r) { return position_of(answer_row_key(r)); }};
    // A skipped question goes where its first answer would.
    j.skips = {skip_row_key, [position_of](const nlohmann::json& r) { return position_of(skip_row_key(r)); }};
    j.prefix = "seva eval " + b_.name;
    j.unit = "answers";
    j.batch_size = static_cast<size_t>(o_.batch_size);
    j.keep_skips = false;  // images are checked again each run
    return j;
  }

  void skip(const WorkItem& item, const std::string& reason) {
    missing_.insert(item.question_key);
    job_.skip({{"question_id", item.question_id}, {"reason", reason}}, "question " + item.question_key + ": " + reason);
  }

  // The items to answer: not answered yet, with an image file or cell. Every rank selects the
  // same; rank 0 records the missing images.
  void select_pending() {
    for (const auto& item : items_) {
      if (job_.finished(item.key) || missing_.count(item.question_key)) continue;
      if (item.image_base64 ? item.image_base64->empty() : !io::file_exists(item.image_path)) {
        if (dist::is_main())
          skip(item, item.image_base64 ? "empty image cell" : "no image file " + item.image_path);
        else
          missing_.insert(item.question_key);
        continue;
      }
      pending_.push_back(&item);
    }
  }

  // Preprocessed pixels of an item's image; MMBench rounds of one question share its decoding.
  torch::Tensor pixels(const WorkItem& item) {
    if (!item.image_base64) return vlm_.pixels(item.image_path);
    if (cached_key_ != item.question_key) {
      const std::string name = b_.file + " index " + item.question_key;
      auto img = image::decode_image_bytes(base64_decode(*item.image_base64, name), name);
      cached_pixels_ = image::preprocess(img, vlm_.preprocess, vlm_.aspect);
      cached_key_ = item.question_key;
    }
    return cached_pixels_;
  }

  dist::BatchResult answer(size_t b0, size_t b1) {
    std::vector<const WorkItem*> batch;
    std::vector<torch::Tensor> px;
    for (size_t at = b0; at < b1; ++at) {
      const WorkItem& item = *pending_[at];
      if (missing_.count(item.question_key)) continue;
      try {
        px.push_back(pixels(item));
      } catch (const std::exception& e) {
        skip(item, e.what());
        continue;
      }
      batch.push_back(&item);
    }
    dist::BatchResult r;
    r.skipped = static_cast<int64_t>(b1 - b0 - batch.size());
    if (batch.empty()) return r;
    std::vector<std::string> prompts;
    std::vector<uint64_t> seeds;
    for (const auto* item : batch) {
      prompts.push_back(vlm_.chat.prompt(item->question));
      seeds.push_back(answer_seed(item->key));
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto answers = vlm_.answer_pixels(prompts, px, pass_.sampling, seeds);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (size_t i = 0; i < batch.size(); ++i) {
      nlohmann::json row = {{"question_id", batch[i]->question_id}};
      if (batch[i]->round >= 0) row["round_id"] = batch[i]->round;
      if (batch[i]->sample >= 0) row["sample"] = batch[i]->sample;
      row["prompt"] = batch[i]->question;
      row["text"] = answers[i].text;
      row["finish_reason"] = answers[i].finish_reason;
      row["tokens"] = answers[i].tokens.size();
      row["model_id"] = model_id_;
      job_.write(row);
      r.tokens += static_cast<int64_t>(answers[i].tokens.size());
    }
    r.answered = r.rows = static_cast<int64_t>(batch.size());
    return r;
  }

  generate::Vlm& vlm_;
  const Benchmark& b_;
  const EvalOptions& o_;
  const AnswerPass pass_;
  const std::vector<WorkItem>& items_;
  std::map<std::string, int64_t> position_;  // answer key -> index in items_
  std::string answers_path_, skipped_path_, model_id_;
  dist::AnswerJob job_;
  std::vector<const WorkItem*> pending_;
  std::set<std::string> missing_;  // question keys with a missing or unreadable image, on this rank
  std::string cached_key_;         // the MMBench question whose pixels are cached
  torch::Tensor cached_pixels_;
};

// Answers in the file whose key matches no question of the benchmark: said, not scored.
void warn_unmatched(const Benchmark& b, const std::map<std::string, std::string>& answers, const std::string& file) {
  auto keys = b.answer_keys(true);
  size_t unmatched = 0;
  for (const auto& [k, v] : answers) unmatched += !keys.count(k);
  if (unmatched)
    std::cerr << "seva eval " << b.name << ": " << unmatched << " answers in " << file
              << " match no question of " << b.file << " (ignored)\n";
}

void warn_coverage(const std::string& bench, const ordered_json& m) {
  const auto& o = m["overall"];
  if (o["missing_images"].get<int64_t>() > 0 || o["unanswered"].get<int64_t>() > 0)
    std::cerr << "seva eval " << bench << ": scored " << o["scored"] << " of " << o["questions"] << " questions ("
              << o["missing_images"] << " with a missing image, " << o["unanswered"] << " unanswered)\n";
}

// The sampling of a benchmark's answers: greedy when --samples asks for sampled ones beside them.
generate::SamplingOptions answer_sampling(const EvalOptions& o) {
  generate::SamplingOptions s = o.sampling;
  if (o.samples > 0) {
    s.temperature = 0;
    s.top_p = 1;
  }
  return s;
}

// The settings answers depend on: a resumed run must use the same ones.
nlohmann::json answer_settings(const EvalOptions& o) {
  const auto s = answer_sampling(o);
  return {{"model", o.model.model_dir},         {"adapter", o.model.adapter_dir},
          {"image_aspect", o.model.image_aspect}, {"dtype", o.model.dtype},
          {"max_new_tokens", s.max_new_tokens},   {"temperature", s.temperature},
          {"top_p", s.top_p},                     {"seed", s.seed},
          {"suffix", o.suffix},                  {"circular", !o.single_pass},
          {"describe_prompt", o.describe_prompt}};
}

// What a samples file's answers depend on beyond answer_settings.
nlohmann::json sample_settings(const EvalOptions& o) {
  return {{"temperature", o.sampling.temperature}, {"top_p", o.sampling.top_p}, {"seed", o.sampling.seed}};
}

// One samples file of the run directory, as config.json records it.
struct SampleRecord {
  std::string file;
  double temperature = 0;
  int samples = 0;
  int64_t questions = 0;  // --sample-questions
};

// The samples files config.json records: each run with --samples adds its own, so metrics.json
// reports every temperature sampled into the directory.
std::vector<SampleRecord> sample_records(const nlohmann::json& samples) {
  std::vector<SampleRecord> out;
  for (const auto& [file, r] : samples.items()) {
    if (!r.is_object() || !r.contains("depends_on") || !r["depends_on"].contains("temperature")) continue;
    SampleRecord s;
    s.file = file;
    s.temperature = r["depends_on"]["temperature"].get<double>();
    s.samples = r.value("samples", 0);
    s.questions = r.value("sample_questions", int64_t{0});
    out.push_back(s);
  }
  return out;
}

// The passes over one benchmark: its answers, then (with --samples) K samples of each of the first
// --sample-questions questions.
std::vector<AnswerPass> answer_passes(const Benchmark& b, const EvalOptions& o) {
  std::vector<AnswerPass> passes;
  passes.push_back({"answers.jsonl", "skipped.jsonl", answer_sampling(o), work_items(b, o)});
  if (o.samples <= 0) return passes;
  const std::string file = samples_file(o.sampling.temperature);
  AnswerPass p{file, file.substr(0, file.size() - 6) + ".skipped.jsonl", o.sampling, {}};
  // MMBench: round 0 only, the round its accuracy scores.
  const auto sampled = o.sample_questions > 0 ? b.first(o.sample_questions).answer_keys(/*circular=*/false)
                                              : b.answer_keys(/*circular=*/false);
  for (const auto& item : passes[0].items) {
    if (!sampled.count(item.key)) continue;
    for (int k = 0; k < o.samples; ++k) {
      WorkItem w = item;
      w.sample = k;
      w.key = item.key + "@" + std::to_string(k);
      p.items.push_back(std::move(w));
    }
  }
  passes.push_back(std::move(p));
  return passes;
}

void write_results(const std::string& out, const ordered_json& metrics) {
  std::filesystem::create_directories(out);
  io::write_file_atomic(io::join_path(out, "metrics.json"), metrics.dump(2) + "\n");
  io::write_file_atomic(io::join_path(out, "report.md"), markdown_report(metrics));
}

// DIR/objects.jsonl: the objects each description mentions and which of them are hallucinated.
void write_chair_objects(const std::string& dir, const std::vector<nlohmann::json>& rows) {
  std::string text;
  for (const auto& r : rows) text += r.dump() + "\n";
  std::filesystem::create_directories(dir);
  io::write_file_atomic(io::join_path(dir, "objects.jsonl"), text);
}

// --answers with --chair: the file as the reference script reads it (question_id/text or
// image_id/caption rows), every row scored, the images asked about being the ones it names.
ordered_json score_chair_file(const EvalOptions& o, const Benchmark& b) {
  const auto rows = read_chair_answers(o.answers);
  std::vector<int64_t> asked;
  for (const auto& r : rows) asked.push_back(r.image_id);
  std::sort(asked.begin(), asked.end());
  asked.erase(std::unique(asked.begin(), asked.end()), asked.end());
  std::vector<nlohmann::json> per_answer;
  auto m = score_chair(*b.chair, rows, asked, {}, &per_answer);
  if (!o.out.empty()) write_chair_objects(io::join_path(o.out, "chair"), per_answer);
  return m;
}

int run_answers_mode(const EvalOptions& o, const std::vector<Benchmark>& benches) {
  if (benches.size() != 1)
    throw std::runtime_error("--answers scores one benchmark: give exactly one of --pope, --mmbench, --vqa, --chair");
  const auto& b = benches[0];
  ordered_json metrics;
  if (b.name == "chair") {
    metrics[b.name] = score_chair_file(o, b);
  } else {
    auto answers = read_answers(o.answers);
    warn_unmatched(b, answers, o.answers);
    metrics[b.name] = b.score(answers, {});
  }
  warn_coverage(b.name, metrics[b.name]);
  if (!o.out.empty()) write_results(o.out, metrics);
  std::cout << markdown_report(metrics);
  return 0;
}

// Refuses an OUT whose config.json records other answer settings, then (rank 0) writes this run's.
// Returns the samples files the directory holds, this run's included.
std::vector<SampleRecord> write_run_config(const EvalOptions& o, const std::vector<Benchmark>& benches) {
  std::filesystem::create_directories(o.out);
  const std::string config_path = io::join_path(o.out, "config.json");
  nlohmann::json settings = answer_settings(o);
  nlohmann::json samples = nlohmann::json::object();
  if (io::file_exists(config_path)) {
    auto previous = io::read_json(config_path);
    if (previous.contains("answers_depend_on") && previous["answers_depend_on"] != settings)
      throw std::runtime_error(o.out + " holds answers made with other settings (" +
                               previous["answers_depend_on"].dump() + "); resume with the same ones or use a new --out");
    if (previous.contains("samples") && previous["samples"].is_object()) samples = previous["samples"];
  }
  if (o.samples > 0) {
    const std::string file = samples_file(o.sampling.temperature);
    if (samples.contains(file) && samples[file].value("depends_on", nlohmann::json()) != sample_settings(o))
      throw std::runtime_error(o.out + " holds " + file + " sampled with other settings (" +
                               samples[file].value("depends_on", nlohmann::json()).dump() +
                               "); use the same --top-p and --seed or a new --out");
    samples[file] = {{"depends_on", sample_settings(o)}, {"samples", o.samples}, {"sample_questions", o.sample_questions}};
  }
  nlohmann::json config = {{"answers_depend_on", settings},
                           {"samples", samples},
                           {"device", o.model.device},
                           {"batch_size", o.batch_size},
                           {"images", o.images},
                           {"benchmarks", nlohmann::json::object()}};
  for (const auto& b : benches) config["benchmarks"][b.name] = b.file;
  dist::barrier();  // every rank has checked config.json before rank 0 rewrites it
  if (dist::is_main()) io::write_file_atomic(config_path, config.dump(2) + "\n");
  return sample_records(samples);
}

void check_options(const EvalOptions& o) {
  if (o.pope.empty() && o.mmbench.empty() && o.vqa.empty() && o.chair.empty())
    throw std::runtime_error("no benchmark: give --pope FILE, --mmbench FILE, --vqa FILE and/or --chair DIR");
  if (!o.answers.empty()) {
    if (o.samples > 0) throw std::runtime_error("--samples needs a model: it cannot be used with --answers");
    return;
  }
  if (o.model.model_dir.empty()) throw std::runtime_error("--model is required (or --answers FILE to score answers)");
  if (o.out.empty()) throw std::runtime_error("--out DIR is required with --model");
  if ((!o.pope.empty() || !o.vqa.empty() || !o.chair.empty()) && o.images.empty())
    throw std::runtime_error(
        "--images DIR is required for POPE, VQA and CHAIR (their image paths are relative to it)");
  if (o.samples > 0 && o.sampling.temperature <= 0)
    throw std::runtime_error("--samples needs --temperature above 0 (the samples' temperature; the answers are greedy)");
}

// Scores one benchmark's passes (rank 0): its answers, and the sampled ones beside them.
void score_benchmark(const Benchmark& b, const std::string& dir, const std::vector<SampleRecord>& sampled,
                     const std::set<std::string>& missing, ordered_json& metrics) {
  const std::string answers_path = io::join_path(dir, "answers.jsonl");
  std::map<std::string, std::string> answers;  // one read of the file for the texts and token counts
  std::map<std::string, int64_t> tokens;
  for_each_answer(answers_path, /*tolerate_torn_tail=*/true, [&](const AnswerRow& a) {
    if (a.sample >= 0) return;
    answers[a.key] = a.text;
    if (a.tokens >= 0) tokens[a.key] = a.tokens;
  });
  warn_unmatched(b, answers, answers_path);
  std::vector<nlohmann::json> per_answer;
  metrics[b.name] = b.score(answers, missing, tokens, &per_answer);
  warn_coverage(b.name, metrics[b.name]);
  if (b.name == "chair") write_chair_objects(dir, per_answer);
  for (const auto& r : sampled) {
    const std::string path = io::join_path(dir, r.file);
    if (!io::file_exists(path)) continue;
    auto samples = read_sampled_answers(path, true);
    samples.resize(static_cast<size_t>(std::max(0, r.samples)));
    const Benchmark cut = r.questions > 0 ? b.first(r.questions) : Benchmark();  // not a copy of all of b
    metrics[sampling_metrics_name(b.name, r.temperature)] =
        score_sampling(r.questions > 0 ? cut : b, answers, samples, missing);
  }
}

}  // namespace

int run_eval(const EvalOptions& o) {
  check_options(o);
  auto benches = read_benchmarks(o);  // every file checked before a model is loaded
  if (!o.answers.empty()) return run_answers_mode(o, benches);

  // torchrun / seva launch: one GPU per process; each rank answers its share of the batches.
  auto model_opts = o.model;
  model_opts.device = dist::local_device(model_opts.device);
  dist::init(model_opts.device);
  io::make_dir(o.out);
  std::unique_ptr<io::DirLock> lock;  // one rank holds it for the job
  if (dist::is_main()) lock = std::make_unique<io::DirLock>(o.out, "seva eval");
  const auto sampled = write_run_config(o, benches);

  auto vlm = generate::Vlm::load(model_opts);
  ordered_json metrics;
  for (const auto& b : benches) {
    std::string dir = io::join_path(o.out, b.name);
    std::filesystem::create_directories(dir);
    std::set<std::string> missing;
    for (auto& pass : answer_passes(b, o)) {
      auto m = BenchmarkAnswerer(vlm, b, o, dir, std::move(pass)).run();
      missing.insert(m.begin(), m.end());
    }
    if (dist::is_main()) score_benchmark(b, dir, sampled, missing, metrics);
  }
  if (!dist::is_main()) return 0;
  write_results(o.out, metrics);
  std::cout << markdown_report(metrics);
  std::cerr << "seva eval: wrote " << io::join_path(o.out, "metrics.json") << " and "
            << io::join_path(o.out, "report.md") << "\n";
  return 0;
}

}  // namespace seva::eval
