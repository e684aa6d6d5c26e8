#!/usr/bin/env bash
# check_policy_libc_refs.sh BUILD [ALLOCSIM] [SRC] - policy rule 1 on the
# compiled objects: the code of policies/ and predictors/ must be able to run
# inside a real malloc, so it may not reach libc (malloc, printf, ...) nor the
# simulator or the trace library.
#
# For every object of libas_policies.a and libas_predictors.a, every
# undefined symbol must be one of:
#   - defined in the same library, or in libas_common.a (libc-free helpers);
#   - in the shim list: memcpy memset memmove memcmp strlen (gcc turns byte loops into these calls; the real allocator's shim provides them), __stack_chk_fail/guard;
#     for predictors also exp log tanh expf logf tanhf sqrt;
#   - emitted by the toolchain rather than written in the source: libgcc
#     arithmetic helpers (__popcountdi2, __udivti3, ...), the linker's
#     _GLOBAL_OFFSET_TABLE_, libgcc's CPU-feature data behind
#     __builtin_cpu_supports (__cpu_model, __cpu_features2,
#     __cpu_indicator_init; the LSTM picks its AVX2 copy with it), and sanitizer/coverage hooks (__asan_*,
#     __ubsan_*, __sanitizer_*, __gcov_*) in instrumented builds.
# A symbol defined in libas_sim.a or libas_traces.a is reported as a
# dependency violation; anything else as a libc/external reference. Each
# offender is printed with its object. libas_common.a is held to the policy
# list too, since both builds link it.
#
# The script first runs itself on a scratch build directory holding objects
# that call malloc, printf and the simulator, and fails unless that run
# catches all three: the check is proven able to fail every time it runs
# (set AS_LIBC_REFS_NO_SELFTEST=1 to skip).
set -uo pipefail

NM=${NM:-nm}
CC=${CC:-cc}
SHIM_COMMON="memcpy memset memmove memcmp strlen __stack_chk_fail __stack_chk_guard _GLOBAL_OFFSET_TABLE_"
SHIM_MATH="exp log tanh expf logf tanhf sqrt"

toolchain_sym() {
  [[ $1 =~ ^__(popcount|clz|ctz|ffs|parity|bswap)[sdt]i2$ ]] ||
    [[ $1 =~ ^__(u?div|u?mod|mul|ashl|ashr|lshr)[sdt]i3$ ]] ||
    [[ $1 =~ ^__(asan|ubsan|sanitizer|tsan|msan|lsan|gcov)_ ]] ||
    [[ $1 =~ ^__cpu_(model|features2|indicator_init)$ ]]
}

# defined_syms LIB...: every global symbol defined in the archives.
defined_syms() {
  local lib
  for lib in "$@"; do
    [[ -r $lib ]] && "$NM" --defined-only -g "$lib" 2>/dev/null |
      awk 'NF >= 3 { print $3 }'
  done | sort -u
}

# check_lib LIB LABEL SHIM DIR: print offenders; return 1 when any.
check_lib() {
  local lib=$1 label=$2 shim=$3 dir=$4 bad=0
  if [[ ! -r $lib ]]; then
    echo "FAIL: $lib not found (build the $label library first)"
    return 1
  fi
  local own common simtr
  own=$(defined_syms "$lib")
  common=$(defined_syms "$dir/libas_common.a")
  simtr=$(defined_syms "$dir/libas_sim.a" "$dir/libas_traces.a")
  local line obj sym
  while IFS= read -r line; do
    # "lib.a:obj.o:                 U sym"
    sym=${line##* }
    obj=${line%%: *}
    obj=${obj#*:}
    obj=${obj%:}
    [[ -z $sym ]] && continue
    if grep -qxF -- "$sym" <<<"$own"; then continue; fi
    if [[ $label != common ]] && grep -qxF -- "$sym" <<<"$common"; then continue; fi
    if [[ " $shim " == *" $sym "* ]] || toolchain_sym "$sym"; then continue; fi
    if grep -qxF -- "$sym" <<<"$simtr"; then
      echo "FAIL: $label object $obj references $sym from as_sim/as_traces (dependency rule)"
    else
      echo "FAIL: $label object $obj references $sym (libc or external; not in the shim list)"
    fi
    bad=1
  done < <("$NM" -A -u "$lib" 2>/dev/null | grep ' U ')
  return $bad
}

# check_dir DIR: the whole check on one build directory.
check_dir() {
  local dir=$1 rc=0
  check_lib "$dir/libas_policies.a" policies "$SHIM_COMMON" "$dir" || rc=1
  check_lib "$dir/libas_predictors.a" predictors "$SHIM_COMMON $SHIM_MATH" "$dir" || rc=1
  if [[ -r $dir/libas_common.a ]]; then
    check_lib "$dir/libas_common.a" common "$SHIM_COMMON" "$dir" || rc=1
  fi
  return $rc
}

selftest() {
  local tmp rc out
  tmp=$(mktemp -d) || return 1
  trap 'rm -rf "$tmp"' RETURN
  cat >"$tmp/good.c" <<'EOF'
#include <string.h>
void as_good(char *d, const char *s) { memcpy(d, s, 8); }
EOF
  cat >"$tmp/bad_malloc.c" <<'EOF'
#include <stdlib.h>
void *as_bad(void) { return malloc(16); }
EOF
  cat >"$tmp/bad_sim.c" <<'EOF'
int as_simos_create(const void *cfg, void **os);
int as_bad_sim(void) { return as_simos_create(0, 0); }
EOF
  cat >"$tmp/bad_printf.c" <<'EOF'
#include <stdio.h>
#include <math.h>
double as_bad_pred(double x) { printf("x"); return exp(x); }
EOF
  cat >"$tmp/sim.c" <<'EOF'
int as_simos_create(const void *cfg, void **os) { (void)cfg; (void)os; return 0; }
EOF
  local f
  for f in good bad_malloc bad_sim bad_printf sim; do
    "$CC" -O1 -fno-builtin -c "$tmp/$f.c" -o "$tmp/$f.c.o" || return 1
  done
  ar rc "$tmp/libas_policies.a" "$tmp/good.c.o" "$tmp/bad_malloc.c.o" "$tmp/bad_sim.c.o"
  ar rc "$tmp/libas_predictors.a" "$tmp/bad_printf.c.o"
  ar rc "$tmp/libas_sim.a" "$tmp/sim.c.o"
  out=$(check_dir "$tmp")
  rc=$?
  if [[ $rc == 0 ]] ||
    ! grep -q 'bad_malloc.c.o references malloc' <<<"$out" ||
    ! grep -q 'bad_sim.c.o references as_simos_create from as_sim' <<<"$out" ||
    ! grep -q 'bad_printf.c.o references printf' <<<"$out" ||
    grep -q 'good.c.o' <<<"$out" || grep -q 'references exp ' <<<"$out"; then
    echo "FAIL: self-test: the check did not catch the planted violations:"
    echo "$out"
    return 1
  fi
  # a clean scratch library passes
  rm -f "$tmp"/lib*.a
  ar rc "$tmp/libas_policies.a" "$tmp/good.c.o"
  ar rc "$tmp/libas_predictors.a" "$tmp/good.c.o"
  if ! out=$(check_dir "$tmp"); then
    echo "FAIL: self-test: a clean library was rejected:"
    echo "$out"
    return 1
  fi
  echo "ok: self-test caught malloc, printf and a simulator reference"
}

build=${1:?usage: check_policy_libc_refs.sh BUILD_DIR [ALLOCSIM] [SRC]}
if [[ -z ${AS_LIBC_REFS_NO_SELFTEST:-} ]]; then
  selftest || exit 1
fi
if check_dir "$build"; then
  echo "ok: policies and predictors reference no libc outside the shim list"
  exit 0
fi
exit 1
