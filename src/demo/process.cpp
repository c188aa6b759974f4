#include "demo/process.h"

#include "io/files.h"
#include "util/child.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace seva::demo {

std::string command_line(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    bool plain = !a.empty() && a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=+,@") == std::string::npos;
    if (plain) {
      out += a;
      continue;
    }
    out += '\'';
    for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    out += '\'';
  }
  return out;
}

std::string self_executable() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) throw std::runtime_error(std::string("cannot read /proc/self/exe: ") + std::strerror(errno));
  return std::string(buf, static_cast<size_t>(n));
}

namespace {

std::string tail_lines(const std::string& path, int lines) {
  std::ifstream in(path);
  std::string line;
  std::vector<std::string> all;
  while (std::getline(in, line)) all.push_back(line);
  std::string out;
  for (size_t i = all.size() > static_cast<size_t>(lines) ? all.size() - lines : 0; i < all.size(); ++i)
    out += "  " + all[i] + "\n";
  return out;
}

}  // namespace

void run_command(const std::vector<std::string>& argv, const std::string& log_path, bool echo) {
  if (argv.empty()) throw std::logic_error("run_command: empty argv");
  {
    std::ofstream log(log_path, std::ios::app);
    log << "$ " << command_line(argv) << "\n";
  }
  int log_fd = ::open(log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (log_fd < 0) throw std::runtime_error("cannot open " + log_path + ": " + std::strerror(errno));
  // stderr goes through a pipe so it can reach both the log and the terminal.
  int err_pipe[2];
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    util::die_with_parent(parent);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(err_pipe[1], STDERR_FILENO);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    std::fprintf(stderr, "cannot run %s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(err_pipe[1]);
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(err_pipe[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (::write(log_fd, buf, static_cast<size_t>(n)) < 0) { /* the log is best effort */ }
    if (echo && ::write(STDERR_FILENO, buf, static_cast<size_t>(n)) < 0) { /* so is the terminal */ }
  }
  ::close(err_pipe[0]);
  ::close(log_fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  std::ostringstream msg;
  msg << "`" << command_line(argv) << "` ";
  if (WIFEXITED(status)) msg << "exited with status " << WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) msg << "was killed by signal " << WTERMSIG(status);
  msg << " (log: " << log_path << ")\n" << tail_lines(log_path, 8);
  throw std::runtime_error(msg.str());
}

}  // namespace seva::demo
