#include "util/child.h"

#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>

namespace seva::util {

void die_with_parent(pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  // The parent may have died between fork() and prctl(): then the child was already re-parented.
  if (::getppid() != parent) ::_exit(137);
}

}  // namespace seva::util
