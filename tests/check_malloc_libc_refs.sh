#!/usr/bin/env bash
# check_malloc_libc_refs.sh BUILD [ALLOCSIM] [SRC] - the real allocator never
# reaches libc's allocator or stdio: every undefined dynamic symbol of
# liballocsim_malloc.so must be on the list below of calls that do not
# allocate (memory and string primitives, system-call wrappers, pthread
# locks, the thread that runs ticks, the fork handler registration). A call
# to malloc/calloc/realloc/free (which would bind back to itself or to
# glibc's), the printf family, strdup, qsort or stdio is reported with its
# name. The policy objects inside the library are also held to their own
# rule by check_policy_libc_refs.sh; this check covers what malloc/ adds.
#
# pthread_create, __register_atfork and pthread_setspecific (keys past the
# 32nd) may allocate: they are called outside
# the allocator's lock (malloc.c), and their allocations recurse into this
# library by design, so they are allowed here.
#
# The predictor layer (malloc/predict.c, only with ALLOCSIM_PREDICTOR):
# expf (the LSTM's gates); dl_iterate_phdr (the symbol index, which takes
# only the loader's short write lock; dladdr, which takes the lock dlopen
# holds while it allocates, is not allowed); pthread_getattr_np (the
# thread's stack top: may allocate, called outside every lock, so its
# allocations recurse here without a prediction); unw_backtrace
# (libunwind, whose own allocations recurse the same way); the weak
# __cxa_demangle of libstdc++ (allocates here likewise).
#
# The script first checks a scratch library that calls malloc, snprintf and
# fopen, and fails unless all three are caught (set
# AS_MALLOC_REFS_NO_SELFTEST=1 to skip).
set -uo pipefail
NM=${NM:-nm}
CC=${CC:-cc}
ALLOWED="memcpy memset memmove memcmp memchr strlen strchr
mmap munmap madvise mincore open read write close getenv getpid sysconf
sched_getcpu clock_gettime nanosleep abort __errno_location
pthread_mutex_init pthread_mutex_lock pthread_mutex_unlock
pthread_key_create pthread_setspecific pthread_setaffinity_np
sched_getaffinity sched_yield syscall
pthread_attr_init pthread_attr_setdetachstate pthread_attr_destroy
pthread_create __register_atfork __cxa_finalize __stack_chk_fail
_ITM_deregisterTMCloneTable _ITM_registerTMCloneTable __gmon_start__
expf dl_iterate_phdr program_invocation_name __progname_full
pthread_self pthread_getattr_np pthread_attr_getstack
pthread_mutex_trylock pthread_mutex_timedlock unw_backtrace __cxa_demangle"

# check_so LIB: print each symbol not on the list; return 1 when any.
check_so() {
  local lib=$1 bad=0 sym
  if [[ ! -r $lib ]]; then
    echo "FAIL: $lib not found"
    return 1
  fi
  while read -r sym; do
    sym=${sym%%@*}
    [[ -z $sym ]] && continue
    if ! grep -qw -- "$sym" <<<"$ALLOWED"; then
      echo "FAIL: $(basename "$lib") references $sym (not a call known not to allocate)"
      bad=1
    fi
  done < <("$NM" -D --undefined-only "$lib" | awk '{ print $NF }')
  return $bad
}

selftest() {
  local tmp out
  tmp=$(mktemp -d) || return 1
  trap 'rm -rf "$tmp"' RETURN
  cat >"$tmp/bad.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
void *as_bad(char *b) { snprintf(b, 8, "%d", 1); fopen("x", "r"); return malloc(strlen(b)); }
EOF
  "$CC" -shared -fPIC -O1 -o "$tmp/libbad.so" "$tmp/bad.c" || return 1
  out=$(check_so "$tmp/libbad.so")
  if ! grep -q 'references malloc ' <<<"$out" ||
    ! grep -q 'references snprintf ' <<<"$out" ||
    ! grep -q 'references fopen ' <<<"$out" ||
    grep -q 'references strlen ' <<<"$out"; then
    echo "FAIL: self-test: the check did not catch malloc, snprintf and fopen:"
    echo "$out"
    return 1
  fi
  echo "ok: self-test caught malloc, snprintf and fopen"
}

build=${1:?usage: check_malloc_libc_refs.sh BUILD_DIR [ALLOCSIM] [SRC]}
lib=$build/malloc/liballocsim_malloc.so
if [[ ! -r $lib ]]; then
  echo "skipped: liballocsim_malloc.so is not built here (sanitizer or fuzz build, or ALLOCSIM_MALLOC=OFF)"
  exit 77
fi
if [[ -z ${AS_MALLOC_REFS_NO_SELFTEST:-} ]]; then
  selftest || exit 1
fi
if check_so "$lib"; then
  echo "ok: liballocsim_malloc.so calls no libc allocator and no stdio"
  exit 0
fi
exit 1
