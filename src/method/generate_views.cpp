#include "method/generate_views.h"
#include "method/questions.h"

#include "dist/answer_job.h"
#include "image/decode.h"
#include "dist/dist.h"
#include "io/files.h"
#include "io/jsonl.h"
#include "aug/augment.h"
#include "util/rng.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <ostream>
#include <set>
#include <stdexcept>

namespace seva::method {
namespace {

using nlohmann::json;

// The views: the original, then each augmentation by the name it was given.
struct Views {
  std::vector<aug::Spec> specs;                // specs[v - 1] makes view v
  std::vector<std::string> names{"original"};  // names[v]: the `view` field
};

Views parse_views(const std::vector<std::string>& augs) {
  Views v;
  for (const auto& a : augs) {
    v.specs.push_back(aug::parse_spec(a));
    const auto& name = v.specs.back().text;
    if (std::find(v.names.begin(), v.names.end(), name) != v.names.end())
      throw std::invalid_argument("--aug '" + name + "' given twice (or named 'original')");
    v.names.push_back(name);
  }
  return v;
}

std::string id_of(const json& j) { return j["id"].is_string() ? j["id"].get<std::string>() : j["id"].dump(); }

// An answers.jsonl row's key: its item and view.
std::string answer_key(const std::string& id, const std::string& view) { return id + "\n" + view; }
std::string answer_row_key(const json& j) {
  return j.contains("id") && j.contains("view") ? answer_key(id_of(j), j["view"].get<std::string>()) : j.dump();
}

// The rows of one batch: every view of every readable item.
struct BatchRows {
  std::vector<size_t> item, view;  // row r answers items[item[r]] on view[r]
  std::vector<std::vector<int64_t>> prompts;
  std::vector<torch::Tensor> pixels;  // (3, H, W) each
  std::vector<uint64_t> seeds;
};

// Answers the questions on every view into OUT/answers.jsonl with the answering job
// (dist/answer_job.h): batches are fixed blocks of the question file, and a batch with any
// missing record is recomputed whole.
class ViewAnswerer {
 public:
  ViewAnswerer(generate::Vlm& vlm, const GenerateOptions& opts, std::ostream& log)
      : vlm_(vlm), opts_(opts), views_(parse_views(opts.augs)), items_(read_questions(opts.questions)),
        job_(job_options(), log) {}

  GenerateSummary run(std::ostream& log) {
    GenerateSummary sum;
    sum.items = static_cast<int64_t>(items_.size());
    for (const auto& it : items_) sum.already_done += item_done(it) ? 1 : 0;
    if (sum.already_done > 0)
      log << "seva generate: resuming: " << sum.already_done << " of " << items_.size()
          << " questions already answered on all " << views_.names.size() << " views (or skipped)\n";
    job_.run(
        items_.size(), [this](size_t i) { return !item_done(items_[i]); },
        [this](size_t b0, size_t b1) { return answer(b0, b1); });
    const auto totals = job_.finish();
    sum.answered_items = totals.done.answered;
    sum.rows = totals.done.rows;
    sum.written = totals.written;
    sum.tokens = totals.done.tokens;
    sum.seconds = totals.done.seconds;
    for (const auto& it : items_) sum.skipped += job_.skipped(it.id) ? 1 : 0;
    return sum;
  }

 private:
  dist::AnswerJobOptions job_options() {
    std::filesystem::create_directories(opts_.out_dir);
    for (size_t i = 0; i < items_.size(); ++i) index_[items_[i].id] = static_cast<int64_t>(i);
    const int64_t V = static_cast<int64_t>(views_.names.size());
    auto position = [this](const json& j, int64_t per_item, int64_t sub) -> int64_t {
      auto it = j.contains("id") ? index_.find(id_of(j)) : index_.end();
      return it == index_.end() ? INT64_MAX : it->second * per_item + sub;
    };
    dist::AnswerJobOptions o;
    o.answers_path = io::join_path(opts_.out_dir, "answers.jsonl");
    o.skipped_path = io::join_path(opts_.out_dir, "skipped.jsonl");
    o.answers = {answer_row_key, [this, position, V](const json& j) -> int64_t {
                   const auto& names = views_.names;
                   auto v = std::find(names.begin(), names.end(), j.value("view", ""));
                   return v == names.end() ? INT64_MAX : position(j, V, v - names.begin());
                 }};
    o.skips = {[](const json& j) { return j.value("id", ""); }, [position](const json& j) { return position(j, 1, 0); }};
    o.prefix = "seva generate";
    o.unit = "questions";
    o.batch_size = static_cast<size_t>(opts_.batch_size);
    o.keep_skips = true;  // an unreadable image is not tried again (delete skipped.jsonl to retry)
    return o;
  }

  // Every view answered, or the image recorded as unreadable.
  bool item_done(const Question& it) const {
    if (job_.skipped(it.id)) return true;
    for (const auto& v : views_.names)
      if (!job_.finished(answer_key(it.id, v))) return false;
    return true;
  }

  // Adds the rows of item i (every view); false when its image is missing or unreadable.
  bool add_rows(size_t i, BatchRows& rows) {
    const auto& it = items_[i];
    const std::string path = io::join_path(opts_.images_dir, it.image);
    image::Image img;
    try {
      if (!io::file_exists(path)) throw std::runtime_error("image file not found: " + path);
      img = image::decode_image(path);
    } catch (const std::exception& e) {
      if (opts_.strict) throw std::runtime_error(std::string(e.what()) + " (question id " + it.id + "; --strict)");
      job_.skip({{"id", it.id}, {"image", it.image}, {"reason", e.what()}}, "question " + it.id + ": " + e.what());
      return false;
    }
    const auto ids = vlm_.tokenizer.encode(vlm_.chat.prompt(it.text));
    rows.pixels.push_back(image::preprocess(img, vlm_.preprocess, vlm_.aspect));
    for (size_t v = 0; v < views_.names.size(); ++v) {
      const uint64_t seed = opts_.sampling.seed;
      if (v > 0) rows.pixels.push_back(aug::make_view(views_.specs[v - 1], img, vlm_.preprocess, vlm_.aspect, seed, it.id));
      rows.item.push_back(i);
      rows.view.push_back(v);
      rows.prompts.push_back(ids);
      rows.seeds.push_back(util::hash_key(seed, it.id, v == 0 ? "original" : views_.specs[v - 1].canonical()));
    }
    return true;
  }

  std::vector<generate::Generated> generate_rows(const BatchRows& rows) {
    const auto& eos = vlm_.end_tokens;
    generate::DecodeFn decode = [this](const std::vector<int64_t>& t) { return vlm_.tokenizer.decode(t, true); };
    const auto& px = rows.pixels;
    if (!opts_.sequential) return generate::generate(*vlm_.model, rows.prompts, px, opts_.sampling, eos, decode, rows.seeds);
    std::vector<generate::Generated> gen;
    for (size_t r = 0; r < rows.prompts.size(); ++r) {
      auto one = generate::generate(*vlm_.model, {rows.prompts[r]}, {px[r]},
                                    opts_.sampling, eos, decode, {rows.seeds[r]});
      gen.push_back(std::move(one[0]));
    }
    return gen;
  }

  // Rows for the whole batch, so that a resumed batch computes exactly what the uninterrupted
  // run did; only the records not yet in the answers are written.
  dist::BatchResult answer(size_t b0, size_t b1) {
    dist::BatchResult r;
    std::vector<bool> done_before;
    for (size_t i = b0; i < b1; ++i) done_before.push_back(item_done(items_[i]));
    BatchRows rows;
    for (size_t i = b0; i < b1; ++i)
      if (!add_rows(i, rows) && !done_before[i - b0]) ++r.skipped;
    if (rows.prompts.empty()) return r;
    const auto t0 = std::chrono::steady_clock::now();
    const auto gen = generate_rows(rows);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (size_t k = 0; k < gen.size(); ++k) {
      const auto& it = items_[rows.item[k]];
      const auto& view = views_.names[rows.view[k]];
      r.tokens += static_cast<int64_t>(gen[k].tokens.size());
      ++r.rows;
      if (job_.finished(answer_key(it.id, view))) continue;
      job_.write({{"id", it.id},
                  {"image", it.image},
                  {"question", it.text},
                  {"view", view},
                  {"answer", vlm_.answer_text(gen[k], opts_.sampling)},
                  {"tokens", gen[k].tokens},
                  {"logprob", gen[k].logprob},
                  {"finish_reason", gen[k].finish_reason}});
    }
    // Progress counts the items this run had to answer, not the recomputed complete ones.
    for (size_t i : std::set<size_t>(rows.item.begin(), rows.item.end())) r.answered += done_before[i - b0] ? 0 : 1;
    return r;
  }

  generate::Vlm& vlm_;
  const GenerateOptions& opts_;
  const Views views_;
  const std::vector<Question> items_;
  std::map<std::string, int64_t> index_;  // item id -> position in the question file
  dist::AnswerJob job_;
};

}  // namespace

GenerateSummary run_generate(generate::Vlm& vlm, const GenerateOptions& opts, std::ostream& log) {
  if (opts.batch_size < 1) throw std::invalid_argument("--batch-size must be at least 1");
  if (opts.out_dir.empty()) throw std::invalid_argument("no --out directory given");
  io::make_dir(opts.out_dir);
  std::unique_ptr<io::DirLock> lock;  // one rank holds it for the job
  if (dist::is_main()) lock = std::make_unique<io::DirLock>(opts.out_dir, "seva generate");
  return ViewAnswerer(vlm, opts, log).run(log);
}

}  // namespace seva::method
