// A resumable answering job sharded over the ranks of a run (dist/dist.h): a list of items is
// answered batch by batch into a JSONL file, so that a killed run resumes where it stopped and
// any number of ranks writes the bytes one process would have written.
//
//  - What earlier runs finished (with any world size) is read from the answers file and its
//    per-rank parts, a torn last line dropped, by every rank before any rank writes.
//  - Batches are fixed blocks of the item list and batch k is rank k % world's, so every rank
//    count agrees on them and a batch computes the same rows whoever runs it.
//  - Each rank appends to its own parts (answers.part-R.jsonl, skipped.part-R.jsonl); at the end
//    rank 0 merges them in item order (dist/parts.h). Parts left by an earlier multi-process run
//    are merged even by a single process.
#pragma once
#include "dist/progress.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <set>
#include <string>

namespace seva::io {
class JsonlWriter;
}

namespace seva::dist {

// How the rows of one output file are identified and ordered.
struct RowOrder {
  // A row's identity: a rerun finds finished work by it, and a merge keeps the first row of each
  // key. May throw for a malformed row; reading then names the file and line.
  std::function<std::string(const nlohmann::json&)> key;
  // Where a row goes in the merged file; rows of equal position (INT64_MAX for unknown ones) keep
  // their order.
  std::function<int64_t(const nlohmann::json&)> position;
};

struct AnswerJobOptions {
  std::string answers_path;    // DIR/answers.jsonl
  std::string skipped_path;    // DIR/skipped.jsonl: one line per item that could not be answered
  RowOrder answers, skips;     // how the rows of each file are keyed and ordered
  std::string prefix;          // progress and skip lines start "PREFIX: " (e.g. "seva generate")
  std::string unit = "items";  // what the progress line counts
  size_t batch_size = 8;       // items per batch
  // true: the skip lines of earlier runs stay and their keys count as recorded (the caller does not
  // retry those items); false: a single process rewrites the skip log each run (the caller retries).
  bool keep_skips = true;
};

// What answering one batch did, as the batch callback reports it.
struct BatchResult {
  int64_t answered = 0;  // items this run had to answer and did
  int64_t skipped = 0;   // items this run had to answer and could not
  int64_t rows = 0;      // answer rows generated, recomputed ones included
  int64_t tokens = 0;    // tokens generated for them
  double seconds = 0;    // generation time
};

// This rank's totals, or after finish() of a merging run every rank's (seconds: the mean).
struct JobTotals {
  BatchResult done;     // the batch results summed
  int64_t written = 0;  // answer rows appended by write()
};

class AnswerJob {
 public:
  // Reads what earlier runs finished, waits until every rank has, then opens this rank's writers.
  AnswerJob(AnswerJobOptions opts, std::ostream& log);
  ~AnswerJob();
  AnswerJob(const AnswerJob&) = delete;
  AnswerJob& operator=(const AnswerJob&) = delete;

  // Whether an answer row of this key was read at the start or written since (on this rank).
  bool finished(const std::string& answer_key) const { return finished_.count(answer_key) > 0; }
  size_t finished_count() const { return finished_.size(); }
  // Whether a skip row of this key was read at the start (keep_skips) or recorded since; after
  // finish(), on any rank.
  bool skipped(const std::string& skip_key) const { return skipped_.count(skip_key) > 0; }
  const std::set<std::string>& skip_keys() const { return skipped_; }
  size_t skips_recorded() const { return skips_recorded_; }  // skip rows written by this rank

  // Appends an answer row to this rank's answers.
  void write(const nlohmann::json& row);
  // Records an item that cannot be answered, once per skip key; the first few are also printed as
  // "PREFIX: skipping MESSAGE". Returns false when the key was already recorded.
  bool skip(const nlohmann::json& row, const std::string& message);

  // Answers items [0, n): every batch of this rank that holds an item for which needs(i) is true
  // is given whole to answer(begin, end), which writes its rows with write() and skip(). Progress
  // counts the needed items of this rank's batches.
  void run(size_t n, const std::function<bool(size_t)>& needs,
           const std::function<BatchResult(size_t, size_t)>& answer);

  // Closes the writers; when parts are in play, sums the totals and gathers the skip keys over
  // the ranks, and rank 0 merges the parts. Every rank must call it.
  JobTotals finish();

 private:
  void read_answers();
  void read_skips();

  AnswerJobOptions opts_;
  std::ostream& log_;
  bool parts_;  // this run writes per-rank parts
  bool merge_;  // the parts (this run's or an earlier run's) are merged at the end
  std::set<std::string> finished_, skipped_;
  std::unique_ptr<io::JsonlWriter> answers_, skips_;
  std::optional<Progress> progress_;
  JobTotals totals_;
  size_t skips_recorded_ = 0;
};

}  // namespace seva::dist
