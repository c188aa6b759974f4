// What a forked child does first, so that it never outlives the process that started it.
#pragma once

#include <sys/types.h>

namespace seva::util {

// Call in the child right after fork(), with the parent's pid taken before the fork. A parent
// killed with SIGKILL cannot stop its children itself: the kernel then sends them SIGKILL, and a
// rerun of the command does not meet an orphan still writing into the same output directory.
// Exits at once if the parent is already gone. Async-signal-safe (two system calls).
void die_with_parent(pid_t parent);

}  // namespace seva::util
