#include "eval/runner.h"

#include "dist/answer_job.h"
#include "dist/dist.h"
#include "eval/answers.h"
#include "eval/base64.h"
#include "eval/report.h"
#include "image/decode.h"
#include "io/files.h"
#include "util/strings.h"

#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <stdexcept>

namespace seva::eval {

std::set<std::string> Benchmark::answer_keys(bool circular) const {
  std::set<std::string> keys;
  for (const auto& q : pope) keys.insert(q.key);
  for (const auto& q : vqa) keys.insert(q.key);
  for (const auto& q : mmbench)
    for (int r = 0; r < mmbench_rounds(q, circular); ++r) keys.insert(answer_key(q.key, r));
  return keys;
}

ordered_json Benchmark::score(const std::map<std::string, std::string>& answers,
                              const std::set<std::string>& missing_images) const {
  if (name == "pope") return score_pope(pope, answers, missing_images);
  if (name == "mmbench") return score_mmbench(mmbench, answers, missing_images);
  return score_vqa(vqa, answers, missing_images);
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
  return items;
}

// From the short basis, not the standard one: the seeds, and so every sampled answer, depend on it.
uint64_t answer_seed(const std::string& key) { return util::fnv1a(key, util::kFnv1aShortBasis); }

namespace {

// The answer key of an answers.jsonl row, as read_answers keys it; throws for a malformed row (the
// answering job adds the file and line).
std::string answer_row_key(const nlohmann::json& row) {
  if (!row.is_object()) throw std::runtime_error("an answer row must be a JSON object");
  std::string key = question_key(row.contains("question_id") ? row["question_id"] : nlohmann::json(), "answer row");
  if (!row.contains("text") || !row["text"].is_string())
    throw std::runtime_error("answer row needs a string \"text\"");
  int round = 0;
  if (row.contains("round_id") && !row["round_id"].is_null()) {
    if (!row["round_id"].is_number_integer() || row["round_id"].get<int64_t>() < 0)
      throw std::runtime_error("round_id must be a non-negative integer");
    round = row["round_id"].get<int>();
  }
  return answer_key(key, round);
}

// The question key of a skipped.jsonl row ({"question_id", "reason"}); the whole row when it has none.
std::string skip_row_key(const nlohmann::json& row) {
  try {
    return question_key(row.at("question_id"), "skipped row");
  } catch (const std::exception&) {
    return row.dump();
  }
}

// Answers one benchmark into DIR/answers.jsonl with the answering job (dist/answer_job.h): every
// work item not answered yet, in fixed batches of the pending items.
class BenchmarkAnswerer {
 public:
  BenchmarkAnswerer(generate::Vlm& vlm, const Benchmark& b, const EvalOptions& o, const std::string& dir)
      : vlm_(vlm), b_(b), o_(o), items_(work_items(b, o)), job_(job_options(dir), std::cerr) {
    model_id_ = std::filesystem::path(o.model.model_dir).filename().string();
  }

  // Returns the question keys whose image is missing or unreadable (on any rank).
  std::set<std::string> run() {
    select_pending();
    std::cerr << "seva eval " << b_.name << ": " << b_.size() << " questions, " << job_.finished_count()
              << " answers already in " << answers_path_ << ", " << pending_.size() << " to generate\n";
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
    answers_path_ = io::join_path(dir, "answers.jsonl");
    skipped_path_ = io::join_path(dir, "skipped.jsonl");
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
    auto answers = vlm_.answer_pixels(prompts, px, o_.sampling, seeds);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (size_t i = 0; i < batch.size(); ++i) {
      nlohmann::json row = {{"question_id", batch[i]->question_id}};
      if (batch[i]->round >= 0) row["round_id"] = batch[i]->round;
      row["prompt"] = batch[i]->question;
      row["text"] = answers[i].text;
      row["finish_reason"] = answers[i].finish_reason;
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
  const std::vector<WorkItem> items_;
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

// The settings answers depend on: a resumed run must use the same ones.
nlohmann::json answer_settings(const EvalOptions& o) {
  return {{"model", o.model.model_dir},         {"adapter", o.model.adapter_dir},
          {"image_aspect", o.model.image_aspect}, {"dtype", o.model.dtype},
          {"max_new_tokens", o.sampling.max_new_tokens}, {"temperature", o.sampling.temperature},
          {"top_p", o.sampling.top_p},           {"seed", o.sampling.seed},
          {"suffix", o.suffix},                  {"circular", !o.single_pass}};
}

void write_results(const std::string& out, const ordered_json& metrics) {
  std::filesystem::create_directories(out);
  io::write_file_atomic(io::join_path(out, "metrics.json"), metrics.dump(2) + "\n");
  io::write_file_atomic(io::join_path(out, "report.md"), markdown_report(metrics));
}

int run_answers_mode(const EvalOptions& o, const std::vector<Benchmark>& benches) {
  if (benches.size() != 1)
    throw std::runtime_error("--answers scores one benchmark: give exactly one of --pope, --mmbench, --vqa");
  const auto& b = benches[0];
  auto answers = read_answers(o.answers);
  warn_unmatched(b, answers, o.answers);
  ordered_json metrics;
  metrics[b.name] = b.score(answers, {});
  warn_coverage(b.name, metrics[b.name]);
  if (!o.out.empty()) write_results(o.out, metrics);
  std::cout << markdown_report(metrics);
  return 0;
}

// Refuses an OUT whose config.json records other answer settings, then (rank 0) writes this run's.
void write_run_config(const EvalOptions& o, const std::vector<Benchmark>& benches) {
  std::filesystem::create_directories(o.out);
  const std::string config_path = io::join_path(o.out, "config.json");
  nlohmann::json settings = answer_settings(o);
  if (io::file_exists(config_path)) {
    auto previous = io::read_json(config_path);
    if (previous.contains("answers_depend_on") && previous["answers_depend_on"] != settings)
      throw std::runtime_error(o.out + " holds answers made with other settings (" +
                               previous["answers_depend_on"].dump() + "); resume with the same ones or use a new --out");
  }
  nlohmann::json config = {{"answers_depend_on", settings},
                           {"device", o.model.device},
                           {"batch_size", o.batch_size},
                           {"images", o.images},
                           {"benchmarks", nlohmann::json::object()}};
  for (const auto& b : benches) config["benchmarks"][b.name] = b.file;
  dist::barrier();  // every rank has checked config.json before rank 0 rewrites it
  if (dist::is_main()) io::write_file_atomic(config_path, config.dump(2) + "\n");
}

}  // namespace

int run_eval(const EvalOptions& o) {
  if (o.pope.empty() && o.mmbench.empty() && o.vqa.empty())
    throw std::runtime_error("no benchmark: give --pope FILE, --mmbench FILE and/or --vqa FILE");
  auto benches = read_benchmarks(o);  // every file checked before a model is loaded
  if (!o.answers.empty()) return run_answers_mode(o, benches);
  if (o.model.model_dir.empty()) throw std::runtime_error("--model is required (or --answers FILE to score answers)");
  if (o.out.empty()) throw std::runtime_error("--out DIR is required with --model");
  if ((!o.pope.empty() || !o.vqa.empty()) && o.images.empty())
    throw std::runtime_error("--images DIR is required for POPE and VQA files (their `image` fields are relative to it)");

  // torchrun / seva launch: one GPU per process; each rank answers its share of the batches.
  auto model_opts = o.model;
  model_opts.device = dist::local_device(model_opts.device);
  dist::init(model_opts.device);
  io::make_dir(o.out);
  std::unique_ptr<io::DirLock> lock;  // one rank holds it for the job
  if (dist::is_main()) lock = std::make_unique<io::DirLock>(o.out, "seva eval");
  write_run_config(o, benches);

  auto vlm = generate::Vlm::load(model_opts);
  ordered_json metrics;
  for (const auto& b : benches) {
    std::string dir = io::join_path(o.out, b.name);
    std::filesystem::create_directories(dir);
    auto missing = BenchmarkAnswerer(vlm, b, o, dir).run();
    if (!dist::is_main()) continue;  // rank 0 scores and reports
    std::string answers_path = io::join_path(dir, "answers.jsonl");
    auto answers = read_answers(answers_path, /*tolerate_torn_tail=*/true);
    warn_unmatched(b, answers, answers_path);
    metrics[b.name] = b.score(answers, missing);
    warn_coverage(b.name, metrics[b.name]);
  }
  if (!dist::is_main()) return 0;
  write_results(o.out, metrics);
  std::cout << markdown_report(metrics);
  std::cerr << "seva eval: wrote " << io::join_path(o.out, "metrics.json") << " and "
            << io::join_path(o.out, "report.md") << "\n";
  return 0;
}

}  // namespace seva::eval
