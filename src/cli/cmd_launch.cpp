// `seva launch -n N -- seva COMMAND ...`: N local processes with torchrun's environment (RANK,
// WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT on a free port), their output forwarded line by
// line with a rank prefix; when one fails the others are stopped and its exit status returned.
#include "cli/commands.h"
#include "util/child.h"

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace seva::cli {
namespace {

struct LaunchOptions {
  int nproc = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 0;  // 0: a free one
  std::vector<std::string> command;
};

volatile std::sig_atomic_t g_signal = 0;
void on_signal(int sig) { g_signal = sig; }

// A port nobody listens on now (the kernel's pick for port 0).
int free_port(const std::string& addr) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error(std::string("seva launch: socket: ") + std::strerror(errno));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = 0;
  if (::inet_pton(AF_INET, addr.c_str(), &sa.sin_addr) != 1) sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
    ::close(fd);
    throw std::runtime_error(std::string("seva launch: cannot find a free port: ") + std::strerror(errno));
  }
  ::close(fd);
  return ntohs(sa.sin_port);
}

// One child: its pid, its stdout/stderr pipes and their unfinished lines.
struct Child {
  int rank = 0;
  pid_t pid = -1;
  int out = -1, err = -1;
  std::string out_buf, err_buf;
  bool running = true;
  int status = 0;  // exit code, or 128 + signal
};

void forward(Child& c, int fd, std::string& buf, std::ostream& to, bool flush_all) {
  const std::string prefix = "[rank " + std::to_string(c.rank) + "] ";
  size_t nl;
  while ((nl = buf.find('\n')) != std::string::npos) {
    to << prefix << buf.substr(0, nl + 1);
    buf.erase(0, nl + 1);
  }
  // A progress line redrawn with \r never ends: pass long unterminated text on as it is.
  if ((flush_all || buf.size() > 4096) && !buf.empty()) {
    to << prefix << buf << (flush_all ? "\n" : "");
    buf.clear();
  }
  to.flush();
  (void)fd;
}

// The child side of a rank: its own process group, tied to the launcher's life, output into the
// pipes, torchrun's environment; then the command. Never returns.
[[noreturn]] void exec_rank(const LaunchOptions& o, const std::vector<std::string>& cmd, int r, int port, pid_t parent,
                            const int out[2], const int err[2]) {
  ::setpgid(0, 0);                // its own group: stopping it stops what it started
  util::die_with_parent(parent);  // its own group is not killed with the launcher's
  ::dup2(out[1], STDOUT_FILENO);
  ::dup2(err[1], STDERR_FILENO);
  ::close(out[0]), ::close(out[1]), ::close(err[0]), ::close(err[1]);
  ::setenv("RANK", std::to_string(r).c_str(), 1);
  ::setenv("LOCAL_RANK", std::to_string(r).c_str(), 1);
  ::setenv("WORLD_SIZE", std::to_string(o.nproc).c_str(), 1);
  ::setenv("LOCAL_WORLD_SIZE", std::to_string(o.nproc).c_str(), 1);
  ::setenv("GROUP_RANK", "0", 1);
  ::setenv("MASTER_ADDR", o.master_addr.c_str(), 1);
  ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
  std::vector<char*> argv;
  for (const auto& a : cmd) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execvp(argv[0], argv.data());
  std::fprintf(stderr, "seva launch: cannot run %s: %s\n", argv[0], std::strerror(errno));
  std::_Exit(127);
}

int run_launch(const LaunchOptions& o) {
  if (o.nproc < 1) throw std::runtime_error("seva launch: -n must be at least 1");
  auto cmd = o.command;
  if (!cmd.empty() && cmd[0] == "--") cmd.erase(cmd.begin());
  if (cmd.empty()) throw std::runtime_error("seva launch: no command given (seva launch -n 2 -- seva train ...)");
  if (cmd[0] == "seva") {  // this very binary, not whatever `seva` PATH finds
    char self[4096];
    ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) cmd[0] = std::string(self, static_cast<size_t>(n));
  }
  const int port = o.master_port > 0 ? o.master_port : free_port(o.master_addr);

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<Child> children(static_cast<size_t>(o.nproc));
  for (int r = 0; r < o.nproc; ++r) {
    int out[2], err[2];
    if (::pipe(out) != 0 || ::pipe(err) != 0) throw std::runtime_error(std::string("seva launch: pipe: ") + std::strerror(errno));
    const pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(std::string("seva launch: fork: ") + std::strerror(errno));
    if (pid == 0) exec_rank(o, cmd, r, port, parent, out, err);
    ::close(out[1]);
    ::close(err[1]);
    children[static_cast<size_t>(r)] = {r, pid, out[0], err[0], "", "", true, 0};
  }

  int failed = -1;  // the first rank that failed
  bool stopping = false;
  auto stop_all = [&](int sig) {
    for (auto& c : children)
      if (c.running) ::kill(-c.pid, sig), ::kill(c.pid, sig);
  };
  auto deadline = std::chrono::steady_clock::time_point::max();
  for (;;) {
    // Output.
    std::vector<pollfd> fds;
    std::vector<std::pair<Child*, bool>> who;  // (child, is stderr)
    for (auto& c : children) {
      if (c.out >= 0) fds.push_back({c.out, POLLIN, 0}), who.emplace_back(&c, false);
      if (c.err >= 0) fds.push_back({c.err, POLLIN, 0}), who.emplace_back(&c, true);
    }
    if (!fds.empty()) ::poll(fds.data(), fds.size(), 100);
    else std::this_thread::sleep_for(std::chrono::milliseconds(50));
    for (size_t i = 0; i < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      auto& [c, is_err] = who[i];
      char buf[65536];
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      auto& pending = is_err ? c->err_buf : c->out_buf;
      auto& to = is_err ? std::cerr : std::cout;
      if (n > 0) {
        pending.append(buf, static_cast<size_t>(n));
        forward(*c, fds[i].fd, pending, to, false);
      } else if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
        forward(*c, fds[i].fd, pending, to, true);
        ::close(fds[i].fd);
        (is_err ? c->err : c->out) = -1;
      }
    }
    // Exits.
    for (auto& c : children) {
      if (!c.running) continue;
      int st = 0;
      if (::waitpid(c.pid, &st, WNOHANG) != c.pid) continue;
      c.running = false;
      c.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
      if (c.status != 0 && failed < 0 && !stopping) {
        failed = c.rank;
        std::cerr << "seva launch: rank " << c.rank << " exited with status " << c.status
                  << "; stopping the other ranks\n";
        stopping = true;
        stop_all(SIGTERM);
        deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      }
    }
    if (g_signal && !stopping) {
      std::cerr << "seva launch: signal " << g_signal << "; stopping every rank\n";
      stopping = true;
      stop_all(SIGTERM);
      deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    }
    if (std::chrono::steady_clock::now() > deadline) {
      stop_all(SIGKILL);
      deadline = std::chrono::steady_clock::time_point::max();
    }
    bool any_running = false, any_open = false;
    for (auto& c : children) any_running |= c.running, any_open |= c.out >= 0 || c.err >= 0;
    if (!any_running && !any_open) break;
    if (!any_running && stopping) {  // grandchildren may hold the pipes: do not wait for them
      for (auto& c : children) {
        if (c.out >= 0) forward(c, c.out, c.out_buf, std::cout, true), ::close(c.out), c.out = -1;
        if (c.err >= 0) forward(c, c.err, c.err_buf, std::cerr, true), ::close(c.err), c.err = -1;
      }
      break;
    }
  }
  if (failed >= 0) return children[static_cast<size_t>(failed)].status;
  if (g_signal) return 128 + g_signal;
  return 0;
}

}  // namespace

Action register_launch(CLI::App& app) {
  auto o = std::make_shared<LaunchOptions>();
  auto* cmd = app.add_subcommand(
      "launch",
      "Run N local processes of a seva command as one data-parallel job (what torchrun --no-python does): "
      "seva launch -n 2 -- seva train ...");
  cmd->add_option("-n,--nproc", o->nproc, "processes (one per GPU in CUDA builds)")->required()->check(CLI::PositiveNumber);
  cmd->add_option("--master-addr", o->master_addr, "rendezvous address (MASTER_ADDR)")->capture_default_str();
  cmd->add_option("--master-port", o->master_port, "rendezvous port (MASTER_PORT); 0 picks a free one")
      ->capture_default_str();
  // Everything after -- is the command, its options included.
  cmd->add_option("command", o->command,
                  "after --: the command each process runs, e.g. seva train --model DIR ...; every process gets "
                  "RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT as torchrun sets them")
      ->required();
  return [o] { return run_launch(*o); };
}

}  // namespace seva::cli
