// `seva eval`: answer POPE, MMBench and VQA benchmark files with a model (batched, resumable) and
// score them, or score an existing answers file without a model (--answers).
#include "cli/commands.h"

#include "dist/dist.h"
#include "dist/parts.h"
#include "eval/answers.h"
#include "eval/base64.h"
#include "eval/mmbench.h"
#include "eval/pope.h"
#include "eval/report.h"
#include "eval/vqa.h"
#include "image/decode.h"
#include "io/files.h"
#include "io/jsonl.h"
#include "text/conversation.h"

#include <chrono>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <optional>

namespace seva::cli {
namespace {

struct EvalOptions {
  // Model and sampling. The model, with whatever ModelOptions carries (--adapter included), comes
  // from Vlm::load; eval adds nothing of its own to loading.
  generate::ModelOptions model;
  generate::SamplingOptions sampling;
  std::string pope, mmbench, vqa;  // benchmark files (at least one)
  std::string images;              // where POPE and VQA `image` paths are resolved
  std::string out;                 // run directory: answers, metrics.json, report.md
  std::string answers;             // score this answers file instead of running a model
  std::string suffix;              // appended to POPE/VQA question texts after a newline
  int batch_size = 8;
  bool single_pass = false;        // MMBench: ask round 0 only (no circular rotations)
};

// One benchmark file, read and validated before any model is loaded.
struct Benchmark {
  std::string name;  // pope, mmbench, vqa: the key in metrics.json and the answers folder
  std::string file;
  std::vector<eval::PopeQuestion> pope;
  std::vector<eval::MmbenchQuestion> mmbench;
  std::vector<eval::VqaQuestion> vqa;

  size_t size() const { return pope.size() + mmbench.size() + vqa.size(); }
  std::set<std::string> answer_keys(bool circular) const {
    std::set<std::string> keys;
    for (const auto& q : pope) keys.insert(q.key);
    for (const auto& q : vqa) keys.insert(q.key);
    for (const auto& q : mmbench)
      for (int r = 0; r < eval::mmbench_rounds(q, circular); ++r) keys.insert(eval::answer_key(q.key, r));
    return keys;
  }
  eval::ordered_json score(const std::map<std::string, std::string>& answers,
                           const std::set<std::string>& missing_images) const {
    if (name == "pope") return eval::score_pope(pope, answers, missing_images);
    if (name == "mmbench") return eval::score_mmbench(mmbench, answers, missing_images);
    return eval::score_vqa(vqa, answers, missing_images);
  }
};

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
    out.back().pope = eval::read_pope_questions(o.pope);
  }
  if (!o.mmbench.empty()) {
    out.push_back(named("mmbench", o.mmbench));
    out.back().mmbench = eval::read_mmbench(o.mmbench);
  }
  if (!o.vqa.empty()) {
    out.push_back(named("vqa", o.vqa));
    out.back().vqa = eval::read_vqa_questions(o.vqa);
  }
  return out;
}

// One answer to produce: a question (and MMBench round) with its prompt and where its image is.
struct WorkItem {
  std::string key;          // answer_key(question key, round)
  nlohmann::json question_id;
  int round = -1;           // MMBench round; -1 for the others (no round_id written)
  std::string question;     // the text given to the llava_v1 template
  std::string image_path;   // a file, or
  const std::string* image_base64 = nullptr;  // an MMBench cell
  std::string question_key;
};

std::vector<WorkItem> work_items(const Benchmark& b, const EvalOptions& o) {
  std::vector<WorkItem> items;
  auto with_suffix = [&](const std::string& text) { return o.suffix.empty() ? text : text + "\n" + o.suffix; };
  for (const auto& q : b.pope)
    items.push_back({q.key, q.question_id, -1, with_suffix(q.text), io::join_path(o.images, q.image), nullptr, q.key});
  for (const auto& q : b.vqa)
    items.push_back({q.key, q.question_id, -1, with_suffix(q.text), io::join_path(o.images, q.image), nullptr, q.key});
  for (const auto& q : b.mmbench)
    for (int r = 0; r < eval::mmbench_rounds(q, !o.single_pass); ++r)
      items.push_back({eval::answer_key(q.key, r), q.question_id, r, eval::mmbench_prompt(q, r), "", &q.image_base64, q.key});
  return items;
}

// A stable per-answer seed, so sampled answers do not depend on batch composition or resumption.
uint64_t key_seed(const std::string& key) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : key) h = (h ^ c) * 1099511628211ull;
  return h;
}

std::string format_duration(double seconds) {
  long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s / 60) % 60);
  else
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  return buf;
}

// Skipped questions: printed (the first few) and recorded one JSON line each in skipped.jsonl.
struct SkipLog {
  std::string bench;
  std::unique_ptr<io::JsonlWriter> writer;
  size_t count = 0;
  void add(const WorkItem& item, const std::string& reason) {
    if (count++ < 5) std::cerr << "seva eval " << bench << ": skipping question " << item.question_key << ": " << reason << "\n";
    if (writer) writer->write({{"question_id", item.question_id}, {"reason", reason}});
  }
};

// Answers every item not yet in `answers_path`, batch by batch, appending each answer as it comes.
// Returns the question keys whose image is missing or unreadable.
std::set<std::string> answer_benchmark(generate::Vlm& vlm, const Benchmark& b, const EvalOptions& o,
                                       const std::string& dir) {
  const std::string answers_path = io::join_path(dir, "answers.jsonl");
  const std::string skipped_path = io::join_path(dir, "skipped.jsonl");
  // Several ranks (dist/dist.h): batch k of the pending answers is rank k % world's; each rank
  // appends to its own answers.part-R.jsonl, reads everyone's to resume, and rank 0 merges them
  // in question order into the answers.jsonl one process writes. Parts left by an earlier
  // multi-process run are merged even by a single process.
  const bool parts = dist::active();
  const bool merge = parts || !dist::existing_parts(answers_path).empty();
  std::set<std::string> done;
  std::vector<std::string> sources = dist::existing_parts(answers_path);
  sources.insert(sources.begin(), answers_path);
  for (const auto& path : sources)
    if (io::file_exists(path))
      for (const auto& [k, v] : eval::read_answers(path, /*tolerate_torn_tail=*/true)) done.insert(k);
  dist::barrier();  // every rank has read before any writes
  SkipLog skips{b.name, std::make_unique<io::JsonlWriter>(parts ? dist::part_path(skipped_path, dist::rank()) : skipped_path, false)};
  std::set<std::string> missing;
  std::vector<WorkItem> pending;
  const auto all_items = work_items(b, o);
  std::map<std::string, int64_t> item_index;
  for (size_t i = 0; i < all_items.size(); ++i) item_index.emplace(all_items[i].key, static_cast<int64_t>(i));
  for (const auto& item : all_items) {
    if (done.count(item.key)) continue;
    if (missing.count(item.question_key)) continue;
    if (item.image_base64 ? item.image_base64->empty() : !io::file_exists(item.image_path)) {
      missing.insert(item.question_key);
      if (dist::is_main()) skips.add(item, item.image_base64 ? "empty image cell" : "no image file " + item.image_path);
      continue;
    }
    pending.push_back(item);
  }
  std::cerr << "seva eval " << b.name << ": " << b.size() << " questions, " << done.size() << " answers already in "
            << answers_path << ", " << pending.size() << " to generate";
  // Batches are fixed blocks of `pending` (an unreadable image shrinks its block's batch), so
  // every rank count agrees on them and a batch computes the same answers whoever runs it.
  const size_t B = static_cast<size_t>(o.batch_size);
  size_t my_total = 0;
  for (size_t b0 = 0; b0 < pending.size(); b0 += B)
    if (dist::mine(b0 / B)) my_total += std::min(B, pending.size() - b0);
  if (parts) std::cerr << "; " << my_total << " of them on rank " << dist::rank() << " of " << dist::world_size();
  std::cerr << "\n";
  io::JsonlWriter writer(parts ? dist::part_path(answers_path, dist::rank()) : answers_path, /*append=*/true);
  const std::string model_id = std::filesystem::path(o.model.model_dir).filename().string();
  const auto start = std::chrono::steady_clock::now();
  size_t produced = 0;
  std::string cached_key;  // MMBench rounds of one question share its decoded pixels
  torch::Tensor cached_pixels;
  for (size_t b0 = 0; b0 < pending.size(); b0 += B) {
    if (!dist::mine(b0 / B)) continue;
    std::vector<const WorkItem*> batch;
    std::vector<torch::Tensor> pixels;
    for (size_t at = b0; at < std::min(pending.size(), b0 + B); ++at) {
      const WorkItem& item = pending[at];
      if (missing.count(item.question_key)) continue;
      try {
        if (!item.image_base64) {
          pixels.push_back(vlm.pixels(item.image_path));
        } else {
          if (cached_key != item.question_key) {
            std::string name = b.file + " index " + item.question_key;
            auto img = image::decode_image_bytes(eval::base64_decode(*item.image_base64, name), name);
            cached_pixels = image::preprocess(img, vlm.preprocess, vlm.aspect);
            cached_key = item.question_key;
          }
          pixels.push_back(cached_pixels);
        }
      } catch (const std::exception& e) {
        missing.insert(item.question_key);
        skips.add(item, e.what());
        continue;
      }
      batch.push_back(&item);
    }
    if (batch.empty()) continue;
    std::vector<std::string> prompts;
    std::vector<uint64_t> seeds;
    for (const auto* item : batch) {
      prompts.push_back(text::llava_v1_prompt(item->question));
      seeds.push_back(key_seed(item->key));
    }
    auto answers = vlm.answer_pixels(prompts, torch::stack(pixels), o.sampling, seeds);
    for (size_t i = 0; i < batch.size(); ++i) {
      nlohmann::json row = {{"question_id", batch[i]->question_id}};
      if (batch[i]->round >= 0) row["round_id"] = batch[i]->round;
      row["prompt"] = batch[i]->question;
      row["text"] = answers[i].text;
      row["finish_reason"] = answers[i].finish_reason;
      row["model_id"] = model_id;
      writer.write(row);
    }
    produced += batch.size();
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double rate = produced / std::max(elapsed, 1e-9);
    std::cerr << "seva eval " << b.name << ": " << produced << "/" << my_total << " answered, "
              << std::fixed << std::setprecision(2) << rate << " answers/s, ETA "
              << format_duration((my_total - produced) / std::max(rate, 1e-9)) << std::defaultfloat << "\n";
  }
  if (merge) {
    // Every rank's unreadable images, then rank 0 merges the parts in question order.
    nlohmann::json mine(std::vector<std::string>(missing.begin(), missing.end()));
    for (const auto& g : dist::all_gather_bytes(mine.dump()))
      for (const auto& k : nlohmann::json::parse(g)) missing.insert(k.get<std::string>());
    if (dist::is_main()) {
      auto key_of = [&](const nlohmann::json& r) {
        try {
          return eval::answer_key(eval::question_key(r.at("question_id"), answers_path), r.value("round_id", 0));
        } catch (const std::exception&) {
          return r.dump();
        }
      };
      auto position = [&](const nlohmann::json& r) {
        auto it = item_index.find(key_of(r));
        return it == item_index.end() ? INT64_MAX : it->second;
      };
      skips.writer.reset();
      dist::merge_parts(answers_path, key_of, position);
      dist::merge_parts(skipped_path, [](const nlohmann::json& r) { return r.dump(); }, [&](const nlohmann::json& r) -> int64_t {
        if (!r.contains("question_id")) return INT64_MAX;
        // A skipped question: the position of its first answer key.
        auto it = item_index.find(eval::question_key(r["question_id"], skipped_path));
        return it == item_index.end() ? INT64_MAX : it->second;
      });
    }
    dist::barrier();
  }
  if (skips.count) std::cerr << "seva eval " << b.name << ": " << skips.count << " questions skipped (missing or unreadable image), listed in " << skipped_path << "\n";
  return missing;
}

// Answers in the file whose key matches no question of the benchmark: said, not scored.
void warn_unmatched(const Benchmark& b, const std::map<std::string, std::string>& answers, const std::string& file) {
  auto keys = b.answer_keys(true);
  size_t unmatched = 0;
  for (const auto& [k, v] : answers) unmatched += !keys.count(k);
  if (unmatched)
    std::cerr << "seva eval " << b.name << ": " << unmatched << " answers in " << file
              << " match no question of " << b.file << " (ignored)\n";
}

void warn_coverage(const std::string& bench, const eval::ordered_json& m) {
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

void write_results(const std::string& out, const eval::ordered_json& metrics) {
  std::filesystem::create_directories(out);
  io::write_file_atomic(io::join_path(out, "metrics.json"), metrics.dump(2) + "\n");
  io::write_file_atomic(io::join_path(out, "report.md"), eval::markdown_report(metrics));
}

int run_answers_mode(const EvalOptions& o, const std::vector<Benchmark>& benches) {
  if (benches.size() != 1)
    throw std::runtime_error("--answers scores one benchmark: give exactly one of --pope, --mmbench, --vqa");
  const auto& b = benches[0];
  auto answers = eval::read_answers(o.answers);
  warn_unmatched(b, answers, o.answers);
  eval::ordered_json metrics;
  metrics[b.name] = b.score(answers, {});
  warn_coverage(b.name, metrics[b.name]);
  if (!o.out.empty()) write_results(o.out, metrics);
  std::cout << eval::markdown_report(metrics);
  return 0;
}

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

  auto vlm = generate::Vlm::load(model_opts);
  eval::ordered_json metrics;
  for (const auto& b : benches) {
    std::string dir = io::join_path(o.out, b.name);
    std::filesystem::create_directories(dir);
    auto missing = answer_benchmark(vlm, b, o, dir);
    if (!dist::is_main()) continue;  // rank 0 scores and reports
    std::string answers_path = io::join_path(dir, "answers.jsonl");
    auto answers = eval::read_answers(answers_path, /*tolerate_torn_tail=*/true);
    warn_unmatched(b, answers, answers_path);
    metrics[b.name] = b.score(answers, missing);
    warn_coverage(b.name, metrics[b.name]);
  }
  if (!dist::is_main()) return 0;
  write_results(o.out, metrics);
  std::cout << eval::markdown_report(metrics);
  std::cerr << "seva eval: wrote " << io::join_path(o.out, "metrics.json") << " and "
            << io::join_path(o.out, "report.md") << "\n";
  return 0;
}

}  // namespace

Action register_eval(CLI::App& app) {
  auto opts = std::make_shared<EvalOptions>();
  opts->sampling.max_new_tokens = 128;  // LLaVA's evaluation scripts
  auto* cmd = app.add_subcommand(
      "eval", "Answer and score benchmark files (POPE, MMBench, VQA), or score an existing answers file");
  add_model_options(*cmd, opts->model);
  cmd->get_option("--model")->required(false);  // not with --answers
  add_sampling_options(*cmd, opts->sampling);
  cmd->add_option("--pope", opts->pope, "POPE question file (JSONL: question_id, image, text, label, category)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--mmbench", opts->mmbench,
                  "MMBench TSV (index, question, hint, A-D, answer, category, base64 image)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--vqa", opts->vqa, "VQA question file (JSONL: question_id, image, text, answers[, category])")
      ->check(CLI::ExistingFile);
  cmd->add_option("--images", opts->images, "directory the POPE/VQA `image` fields are relative to")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--out", opts->out,
                  "run directory: BENCH/answers.jsonl (resumable), BENCH/skipped.jsonl, config.json, metrics.json, "
                  "report.md");
  cmd->add_option("--answers", opts->answers,
                  "score this answers file (JSONL: question_id, text[, round_id]) without a model; "
                  "needs exactly one benchmark file")
      ->check(CLI::ExistingFile)
      ->excludes("--model");
  cmd->add_option("--suffix", opts->suffix,
                  "appended to POPE/VQA questions after a newline, e.g. "
                  "\"Answer the question using a single word or phrase.\"");
  cmd->add_option("--batch-size", opts->batch_size, "answers generated together")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("--single-pass", opts->single_pass,
                "MMBench: ask each question once (no circular rotations; circular_accuracy is then empty)");
  return [opts] { return run_eval(*opts); };
}

}  // namespace seva::cli
