// The resumable, sharded answering job (dist/answer_job.h) in one process: resuming after a torn
// line, merging the parts an earlier multi-process run left in item order, a skip recorded once,
// and progress durations.
#include "dist/answer_job.h"
#include "dist/parts.h"
#include "dist/progress.h"
#include "io/files.h"
#include "test_helpers.h"

#include <cmath>
#include <sstream>

using namespace seva;

namespace {

// Rows {"k": i} for item i; skip rows {"k": i, "reason": ...}.
dist::AnswerJobOptions options(const std::string& dir, size_t batch_size) {
  dist::AnswerJobOptions o;
  o.answers_path = dir + "/answers.jsonl";
  o.skipped_path = dir + "/skipped.jsonl";
  auto key = [](const nlohmann::json& j) { return j.at("k").dump(); };
  auto position = [](const nlohmann::json& j) { return j.at("k").get<int64_t>(); };
  o.answers = {key, position};
  o.skips = {key, position};
  o.prefix = "test job";
  o.batch_size = batch_size;
  return o;
}

// Answers items [0, n) not finished yet, skipping those in `unreadable`; returns the batches run.
std::vector<std::pair<size_t, size_t>> answer_all(dist::AnswerJob& job, size_t n, const std::set<size_t>& unreadable = {}) {
  std::vector<std::pair<size_t, size_t>> batches;
  auto done = [&](size_t i) { return job.finished(std::to_string(i)) || job.skipped(std::to_string(i)); };
  job.run(n, [&](size_t i) { return !done(i); }, [&](size_t b0, size_t b1) {
    batches.emplace_back(b0, b1);
    dist::BatchResult r;
    for (size_t i = b0; i < b1; ++i) {
      if (done(i)) continue;
      if (unreadable.count(i)) {
        job.skip({{"k", i}, {"reason", "unreadable"}}, "item " + std::to_string(i));
        ++r.skipped;
        continue;
      }
      job.write({{"k", i}});
      ++r.answered;
    }
    r.rows = r.answered;
    return r;
  });
  return batches;
}

}  // namespace

TEST(DistAnswerJob, ResumesAfterATornLine) {
  auto dir = test::temp_dir("answer_job_torn");
  io::write_file_atomic(dir + "/answers.jsonl", "{\"k\": 0}\n{\"k\": 1, \"x\": 1.50}\n{\"k\": 2, \"x");
  std::ostringstream log;
  dist::AnswerJob job(options(dir, 2), log);
  EXPECT_TRUE(job.finished("0"));
  EXPECT_TRUE(job.finished("1"));
  EXPECT_FALSE(job.finished("2"));  // the torn line is not an answer
  EXPECT_EQ(job.finished_count(), 2u);
  auto batches = answer_all(job, 5);
  // Batch [0, 2) is complete and not run again; the others are.
  EXPECT_EQ(batches, (std::vector<std::pair<size_t, size_t>>{{2, 4}, {4, 5}}));
  auto totals = job.finish();
  EXPECT_EQ(totals.written, 3);
  EXPECT_EQ(totals.done.answered, 3);
  // Earlier lines keep their bytes; the torn one is replaced.
  EXPECT_EQ(io::read_file(dir + "/answers.jsonl"), "{\"k\": 0}\n{\"k\": 1, \"x\": 1.50}\n{\"k\":2}\n{\"k\":3}\n{\"k\":4}\n");
  EXPECT_NE(log.str().find("test job: 3/3 items"), std::string::npos) << log.str();
}

TEST(DistAnswerJob, ATornLineThatParsesIsNotCountedAsDone) {
  // A kill between a row's closing brace and its newline: the writer drops the line on reopening,
  // so the reader must not count it, or the answer would be lost for good.
  auto dir = test::temp_dir("answer_job_torn_parses");
  io::write_file_atomic(dir + "/answers.jsonl", "{\"k\": 0}\n{\"k\": 1}");
  std::ostringstream log;
  dist::AnswerJob job(options(dir, 1), log);
  EXPECT_TRUE(job.finished("0"));
  EXPECT_FALSE(job.finished("1"));
  answer_all(job, 2);
  job.finish();
  EXPECT_EQ(io::read_file(dir + "/answers.jsonl"), "{\"k\": 0}\n{\"k\":1}\n");
}

TEST(DistAnswerJob, PartsOfAnEarlierRunAreMergedInItemOrder) {
  auto dir = test::temp_dir("answer_job_parts");
  const auto o = options(dir, 2);
  // A two-rank run killed mid-way: rank 0 did batch [0, 2), rank 1 part of [2, 4) and a skip.
  io::write_file_atomic(dist::part_path(o.answers_path, 0), "{\"k\": 1}\n{\"k\": 0}\n");
  io::write_file_atomic(dist::part_path(o.answers_path, 1), "{\"k\": 3}\n{\"k\": 2");
  io::write_file_atomic(dist::part_path(o.skipped_path, 1), "{\"k\": 5, \"reason\": \"unreadable\"}\n");
  std::ostringstream log;
  dist::AnswerJob job(o, log);
  EXPECT_EQ(job.finished_count(), 3u);
  EXPECT_TRUE(job.skipped("5"));
  auto batches = answer_all(job, 7, {6});
  EXPECT_EQ(batches, (std::vector<std::pair<size_t, size_t>>{{2, 4}, {4, 6}, {6, 7}}));
  job.finish();
  EXPECT_EQ(io::read_file(o.answers_path), "{\"k\": 0}\n{\"k\": 1}\n{\"k\":2}\n{\"k\": 3}\n{\"k\":4}\n");
  EXPECT_EQ(io::read_file(o.skipped_path),
            "{\"k\": 5, \"reason\": \"unreadable\"}\n{\"k\":6,\"reason\":\"unreadable\"}\n");
  EXPECT_TRUE(dist::existing_parts(o.answers_path).empty());
  EXPECT_TRUE(dist::existing_parts(o.skipped_path).empty());
}

TEST(DistAnswerJob, ASkipIsRecordedOnce) {
  auto dir = test::temp_dir("answer_job_skips");
  auto o = options(dir, 4);
  io::write_file_atomic(o.skipped_path, "{\"k\": 1, \"reason\": \"gone\"}\n");
  {
    std::ostringstream log;
    dist::AnswerJob job(o, log);
    EXPECT_TRUE(job.skipped("1"));
    EXPECT_FALSE(job.skip({{"k", 1}, {"reason", "gone"}}, "item 1"));  // recorded by the earlier run
    EXPECT_TRUE(job.skip({{"k", 2}, {"reason", "gone"}}, "item 2"));
    EXPECT_FALSE(job.skip({{"k", 2}, {"reason", "still gone"}}, "item 2"));
    EXPECT_EQ(job.skips_recorded(), 1u);
    job.finish();
    EXPECT_EQ(log.str(), "test job: skipping item 2\n");
  }
  EXPECT_EQ(io::read_file(o.skipped_path), "{\"k\": 1, \"reason\": \"gone\"}\n{\"k\":2,\"reason\":\"gone\"}\n");
  // Without keep_skips the log is rewritten and its items are the caller's to try again.
  o.keep_skips = false;
  std::ostringstream log;
  dist::AnswerJob fresh(o, log);
  EXPECT_FALSE(fresh.skipped("1"));
  EXPECT_TRUE(fresh.skip({{"k", 2}, {"reason", "gone"}}, "item 2"));
  fresh.finish();
  EXPECT_EQ(io::read_file(o.skipped_path), "{\"k\":2,\"reason\":\"gone\"}\n");
}

TEST(DistAnswerJob, AMalformedRowNamesItsFileAndLine) {
  auto dir = test::temp_dir("answer_job_bad");
  auto o = options(dir, 2);
  io::write_file_atomic(o.answers_path, "{\"k\": 0}\n{\"other\": 1}\n");
  std::ostringstream log;
  try {
    dist::AnswerJob job(o, log);
    FAIL() << "a row without a key was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("answers.jsonl:2: "), std::string::npos) << e.what();
  }
}

TEST(DistAnswerJob, DurationsReadAsTheyShould) {
  EXPECT_EQ(dist::format_duration(0), "0s");
  EXPECT_EQ(dist::format_duration(42.4), "42s");
  EXPECT_EQ(dist::format_duration(187), "3m07s");
  EXPECT_EQ(dist::format_duration(7500), "2h05m");
  EXPECT_EQ(dist::format_duration(-1), "?");
  EXPECT_EQ(dist::format_duration(std::nan("")), "?");
}
