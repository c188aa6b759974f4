// Progress lines of a long answering job: "PREFIX: done/total UNIT, R UNIT/s, T tokens/s, ETA 3m07s",
// rewritten in place on a terminal and printed at most every 5 s into a log, then one last line
// with the elapsed time.
#pragma once
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>

namespace seva::dist {

// "42s", "3m07s", "2h05m"; "?" for a negative, NaN or absurdly large value (an unknown ETA).
std::string format_duration(double seconds);

class Progress {
 public:
  // Lines are rewritten in place when stderr is a terminal (the log is normally std::cerr).
  Progress(std::ostream& log, std::string prefix, std::string unit, int64_t total);
  // `items` more of the total handled, `tokens` generated for them; prints when it is time to.
  void add(int64_t items, int64_t tokens);
  // Prints `line` on a line of its own (ending an in-place progress line first).
  void note(const std::string& line);
  // The last line, with the elapsed time in place of the ETA; none when there was nothing to do.
  void finish();

 private:
  void print(bool final);

  std::ostream& log_;
  std::string prefix_, unit_;
  int64_t total_, done_ = 0, tokens_ = 0;
  bool tty_;
  bool open_line_ = false;  // an in-place line was printed without its newline
  std::chrono::steady_clock::time_point start_, last_print_;
};

}  // namespace seva::dist
