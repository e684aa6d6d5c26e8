#!/usr/bin/env bash
# check_record_untraced.sh BUILD ALLOCSIM SRC - the allocator behind the
# recorder sees exactly the allocation calls the trace holds.
#
# The recorder's own work allocates: pthread_getattr_np when a thread's
# ring is made, the demangler and dladdr when a new code address is named,
# libunwind, the loader. Those calls are not in the trace; when they
# reached the allocator behind the recorder they moved the program's blocks
# and opened glibc arenas for threads the trace lacks, so the recorded run
# and the replay of its trace differed (bench/fidelity: cc1 under the glibc
# policy, +18% at the peak). They are served by the recorder's own heap
# now (docs/recording.md, "The recorder's own allocations").
#
# A counting interposer (tests/record_probe.c) behind the recorder counts
# the calls that reach it between two marker allocations of a C++ program
# (tests/record_untraced_target.cc: 121 mangled functions that malloc,
# realloc, calloc and free, on the main thread and on 4 new threads); the
# trace's a/r/f events between the same markers must be the same numbers,
# with the symbolizer thread and with ALLOCSIM_RECORD_SYMBOLIZE=inline.
# The numbers are also known by hand: 5 threads x 3 rounds x (121 allocs,
# 120 reallocs, 121 frees); plus the vector of threads (1 alloc), each
# std::thread's state (4 allocs, 4 frees) and each new thread's TLS vector,
# which pthread_create callocs (4 allocs, freed later); plus the free of
# the first marker.
# Before the own heap the probe counted 4 allocs, 492 reallocs and 496
# frees more (the demangler's and pthread_getattr_np's).
# Exit 77 where the recorder, a C compiler or a C++ compiler is missing.
set -uo pipefail
. "$(dirname "$0")/checklib.sh"
skip_unless_recorder
cxx=$(command -v c++ || command -v g++ || true)
cc=$(command -v cc || command -v gcc || true)
[[ -n $cxx && -n $cc ]] || { echo "skipped: no C/C++ compiler"; exit 77; }
"$cc" -shared -fPIC -O1 -o "$T/probe.so" "$S/tests/record_probe.c" ||
  die "cannot build the probe"
# -rdynamic: the functions are in the dynamic symbol table, so the
# recorder names (and demangles) them
"$cxx" -O1 -g -rdynamic -pthread -ftemplate-depth=300 \
  -o "$T/target" "$S/tests/record_untraced_target.cc" ||
  die "cannot build the target"

want="allocs $((5 * 3 * 121 + 1 + 4 + 4)) reallocs $((5 * 3 * 120)) frees $((5 * 3 * 121 + 1 + 4))"
for mode in thread inline; do
  rm -f "$T/probe.out"
  RECORD_PROBE_OUT=$T/probe.out ALLOCSIM_RECORD_SYMBOLIZE=$mode \
    LD_PRELOAD=$T/probe.so "$A" record -q -o "$T/$mode.ast" -- "$T/target" 4 ||
    die "$mode: record exit $?"
  [[ -s $T/probe.out ]] || die "$mode: the probe saw no markers"
  seen=$(cat "$T/probe.out")
  traced=$("$A" cat "$T/$mode.ast" | awk '
    $1 == "a" && $6 == 7340033 { on = 1; next }
    $1 == "a" && $6 == 7340035 { on = 0 }
    on && $1 == "a" { a++ }
    on && $1 == "r" { r++ }
    on && $1 == "f" { f++ }
    END { printf "allocs %d reallocs %d frees %d\n", a, r, f }')
  if [[ $seen == "$traced" ]]; then ok "$mode: behind the recorder: $seen, the same as the trace"; else
    bad "$mode: behind the recorder: $seen; in the trace: $traced"
  fi
  if [[ $traced == "$want" ]]; then ok "$mode: the trace holds the program's calls ($want)"; else
    bad "$mode: the trace holds $traced, the program made $want"
  fi
  named=$("$A" cat "$T/$mode.ast" | awk '$1 == "frame" && index($6, "void*%20grab<") == 1' | wc -l)
  if (( named == 120 )); then ok "$mode: $named frames named by demangled C++ names"; else
    bad "$mode: $named frames demangled, not the 120 grab<N> (without the demangler the check proves nothing)"
  fi
  info=$("$A" info "$T/$mode.ast")
  peak=$(awk '$3 == "record.own_heap_peak_bytes" {print $5}' <<<"$info")
  if [[ -n $peak ]] && (( peak > 0 )); then ok "$mode: record.own_heap_peak_bytes = $peak"; else
    bad "$mode: record.own_heap_peak_bytes = '$peak'"
  fi
  if grep -q own_heap_fallbacks <<<"$info"; then bad "$mode: $(grep own_heap_fallbacks <<<"$info")"; fi
done
exit $fail
