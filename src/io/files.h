// Small file helpers shared by every part: whole-file reads, JSON files, atomic writes.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace seva::io {

bool file_exists(const std::string& path);
std::string read_file(const std::string& path);  // throws "cannot read FILE: reason"
// Parses a JSON file; a syntax error names the file and the byte offset.
nlohmann::json read_json(const std::string& path);
// Writes to `path.tmp.PID` then renames, so readers never see a half-written file.
void write_file_atomic(const std::string& path, const std::string& content);
std::string join_path(const std::string& dir, const std::string& name);
void make_dir(const std::string& dir);     // creates it (and parents) if missing; throws naming it
void remove_tree(const std::string& path);  // removes it and everything below, if present

// An exclusive lock on DIR/.seva.lock (flock), held while the object lives: a second seva run on
// the same output directory refuses at once instead of interleaving its writes with the first's.
// The kernel drops the lock when the process ends, kill -9 included, so a killed run never leaves
// a stale lock behind. `command` names the run in the file and in the other run's error.
class DirLock {
 public:
  DirLock(const std::string& dir, const std::string& command);
  ~DirLock();
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace seva::io
