#include "dist/progress.h"

#include <cstdio>
#include <ostream>
#include <unistd.h>

namespace seva::dist {

std::string format_duration(double s) {
  if (!(s >= 0) || s > 1e8) return "?";
  const long t = static_cast<long>(s + 0.5);
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  else if (t >= 60)
    std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%lds", t);
  return buf;
}

Progress::Progress(std::ostream& log, std::string prefix, std::string unit, int64_t total)
    : log_(log),
      prefix_(std::move(prefix)),
      unit_(std::move(unit)),
      total_(total),
      tty_(::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

void Progress::add(int64_t items, int64_t tokens) {
  done_ += items;
  tokens_ += tokens;
  // A log file gets a line every 5 s at most: a long run stays readable.
  const auto now = std::chrono::steady_clock::now();
  if (!tty_ && std::chrono::duration<double>(now - last_print_).count() < 5.0) return;
  last_print_ = now;
  print(false);
}

void Progress::note(const std::string& line) {
  if (open_line_) log_ << "\n";
  open_line_ = false;
  log_ << line << "\n" << std::flush;
}

void Progress::finish() {
  if (total_ == 0 && done_ == 0) return;
  print(true);
}

void Progress::print(bool final) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? done_ / elapsed : 0, token_rate = elapsed > 0 ? tokens_ / elapsed : 0;
  const double eta = rate > 0 ? (total_ - done_) / rate : -1;
  char buf[320];
  std::snprintf(buf, sizeof buf, "%s: %lld/%lld %s, %.2f %s/s, %.1f tokens/s, %s %s", prefix_.c_str(),
                static_cast<long long>(done_), static_cast<long long>(total_), unit_.c_str(), rate, unit_.c_str(),
                token_rate, final ? "elapsed" : "ETA", format_duration(final ? elapsed : eta).c_str());
  const bool in_place = tty_ && !final;
  log_ << (open_line_ ? "\r" : "") << buf << (in_place ? "" : "\n") << std::flush;
  open_line_ = in_place;
}

}  // namespace seva::dist
