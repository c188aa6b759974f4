#include "demo/phases.h"

#include "demo/process.h"
#include "io/files.h"

#include <chrono>
#include <iostream>

namespace seva::demo {
namespace {

using json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

// A key as a file name: its '/' and ' ' become '_'.
std::string sanitize(std::string s) {
  for (auto& c : s)
    if (c == '/' || c == ' ') c = '_';
  return s;
}

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

}  // namespace

Runner::Runner(std::string out, std::string seva, bool echo) : out_(std::move(out)), seva_(std::move(seva)), echo_(echo) {
  io::make_dir(io::join_path(out_, ".done"));
  io::make_dir(io::join_path(out_, "logs"));
}

std::string Runner::marker(const std::string& key) const {
  return io::join_path(io::join_path(out_, ".done"), sanitize(key));
}

bool Runner::resumed(const std::string& key) {
  const std::string m = marker(key);
  if (!io::file_exists(m)) return false;
  json entry = io::read_json(m);
  entry["resumed"] = true;
  phases_.push_back(entry);
  return true;
}

bool Runner::phase(const std::string& key, const std::string& label, const std::vector<std::vector<std::string>>& commands) {
  if (resumed(key)) return false;
  std::cerr << "seva demo: [" << label << "]\n";
  const std::string log = io::join_path(io::join_path(out_, "logs"), sanitize(key) + ".log");
  const auto start = Clock::now();
  json entry = {{"phase", label}, {"key", key}};
  json shown = json::array();
  for (const auto& c : commands) {
    std::vector<std::string> argv = c;
    argv.insert(argv.begin(), seva_);
    run_command(argv, log, echo_);
    argv[0] = "seva";
    shown.push_back(command_line(argv));
  }
  entry["seconds"] = seconds_since(start);
  entry["commands"] = shown;
  io::write_file_atomic(marker(key), entry.dump(2) + "\n");
  phases_.push_back(entry);
  return true;
}

void Runner::step(const std::string& key, const std::string& label, const std::function<void()>& work) {
  if (resumed(key)) return;
  std::cerr << "seva demo: [" << label << "]\n";
  const auto start = Clock::now();
  work();
  json entry = {{"phase", label}, {"key", key}, {"seconds", seconds_since(start)}};
  io::write_file_atomic(marker(key), entry.dump(2) + "\n");
  phases_.push_back(entry);
}

}  // namespace seva::demo
