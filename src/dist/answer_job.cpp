#include "dist/answer_job.h"

#include "dist/dist.h"
#include "dist/parts.h"
#include "io/jsonl.h"

#include <torch/torch.h>

#include <ostream>
#include <stdexcept>

namespace seva::dist {
namespace {

// The skip lines printed per rank; the rest are only in the skip log.
constexpr size_t kPrintedSkips = 5;

}  // namespace

AnswerJob::AnswerJob(AnswerJobOptions opts, std::ostream& log) : opts_(std::move(opts)), log_(log) {
  if (opts_.batch_size < 1) throw std::invalid_argument("answer job: batch size must be at least 1");
  parts_ = active();
  merge_ = parts_ || !existing_parts(opts_.answers_path).empty() || !existing_parts(opts_.skipped_path).empty();
  read_answers();
  if (opts_.keep_skips) read_skips();
  barrier();  // every rank has read before any writes
  const int r = rank();
  answers_ = std::make_unique<io::JsonlWriter>(parts_ ? part_path(opts_.answers_path, r) : opts_.answers_path,
                                               /*append=*/true);
  skips_ = std::make_unique<io::JsonlWriter>(parts_ ? part_path(opts_.skipped_path, r) : opts_.skipped_path,
                                             /*append=*/opts_.keep_skips);
}

AnswerJob::~AnswerJob() = default;

void AnswerJob::read_answers() {
  std::vector<std::string> sources = existing_parts(opts_.answers_path);
  sources.insert(sources.begin(), opts_.answers_path);
  for (const auto& path : sources)
    for (const auto& line : read_lines(path)) {
      try {
        finished_.insert(opts_.answers.key(line.row));
      } catch (const std::exception& e) {
        throw std::runtime_error(path + ":" + std::to_string(line.number) + ": " + e.what());
      }
    }
}

void AnswerJob::read_skips() {
  for (const auto& line : read_with_parts(opts_.skipped_path)) skipped_.insert(opts_.skips.key(line.row));
}

void AnswerJob::write(const nlohmann::json& row) {
  answers_->write(row);
  finished_.insert(opts_.answers.key(row));
  ++totals_.written;
}

bool AnswerJob::skip(const nlohmann::json& row, const std::string& message) {
  if (!skipped_.insert(opts_.skips.key(row)).second) return false;
  skips_->write(row);
  if (skips_recorded_++ < kPrintedSkips) {
    const std::string line = opts_.prefix + ": skipping " + message;
    if (progress_)
      progress_->note(line);
    else
      log_ << line << "\n";
  }
  return true;
}

void AnswerJob::run(size_t n, const std::function<bool(size_t)>& needs,
                    const std::function<BatchResult(size_t, size_t)>& answer) {
  const size_t B = opts_.batch_size;
  int64_t total = 0;
  for (size_t b0 = 0; b0 < n; b0 += B)
    if (mine(b0 / B))
      for (size_t i = b0; i < std::min(n, b0 + B); ++i) total += needs(i) ? 1 : 0;
  if (parts_)
    log_ << opts_.prefix << ": " << total << " " << opts_.unit << " in the batches of rank " << rank() << " of "
         << world_size() << "\n";
  progress_.emplace(log_, opts_.prefix, opts_.unit, total);
  for (size_t b0 = 0; b0 < n; b0 += B) {
    if (!mine(b0 / B)) continue;
    const size_t b1 = std::min(n, b0 + B);
    bool any = false;
    for (size_t i = b0; i < b1 && !any; ++i) any = needs(i);
    if (!any) continue;
    const BatchResult r = answer(b0, b1);
    totals_.done.answered += r.answered;
    totals_.done.skipped += r.skipped;
    totals_.done.rows += r.rows;
    totals_.done.tokens += r.tokens;
    totals_.done.seconds += r.seconds;
    progress_->add(r.answered + r.skipped, r.tokens);
  }
  progress_->finish();
  progress_.reset();
}

JobTotals AnswerJob::finish() {
  answers_.reset();
  skips_.reset();
  if (!merge_) return totals_;
  auto& d = totals_.done;
  auto counts = torch::tensor({d.answered, d.skipped, d.rows, d.tokens, totals_.written}, torch::kInt64);
  auto seconds = torch::tensor({d.seconds}, torch::kFloat64);
  all_reduce_sum({counts, seconds});
  d = {counts[0].item<int64_t>(), counts[1].item<int64_t>(), counts[2].item<int64_t>(), counts[3].item<int64_t>(),
       seconds.item<double>() / world_size()};  // the mean wall time per rank
  totals_.written = counts[4].item<int64_t>();
  const nlohmann::json mine(std::vector<std::string>(skipped_.begin(), skipped_.end()));
  for (const auto& gathered : all_gather_bytes(mine.dump()))
    for (const auto& key : nlohmann::json::parse(gathered)) skipped_.insert(key.get<std::string>());
  if (is_main()) {
    merge_parts(opts_.answers_path, opts_.answers.key, opts_.answers.position);
    merge_parts(opts_.skipped_path, opts_.skips.key, opts_.skips.position);
  }
  barrier();
  return totals_;
}

}  // namespace seva::dist
