// Running one `seva` subcommand as a child process: the demo is a chain of the same commands a
// user would type, so every phase goes through the real CLI and its files.
#pragma once
#include <string>
#include <vector>

namespace seva::demo {

// Shell-quoted, for logs and for commands.sh.
std::string command_line(const std::vector<std::string>& argv);

// Runs argv (argv[0] is the program path) with stdout and stderr appended to `log_path` (and
// stderr also passed through when `echo` is true, for progress). Waits; throws
// std::runtime_error naming the command, its exit status and the log's last lines on failure.
void run_command(const std::vector<std::string>& argv, const std::string& log_path, bool echo);

// The path of the running executable (/proc/self/exe).
std::string self_executable();

}  // namespace seva::demo
