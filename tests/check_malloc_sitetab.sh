#!/usr/bin/env bash
# check_malloc_sitetab.sh BUILD ALLOCSIM SRC - a site table built by the
# simulator from recorded traces (`allocsim train --predictor sitetab`,
# docs/predictors.md) predicts the same classes in the real allocator
# (ALLOCSIM_PREDICTOR=sitetab, ALLOCSIM_MODEL=TABLE, docs/malloc.md) as in
# `allocsim run --predictor sitetab --predictor-load TABLE`, in a new
# process (other load addresses under ASLR, the program copied to another
# directory). tests/pred_target.c has two sites of 48-byte blocks: per
# round two scratch blocks freed at once (class 0) and one kept until exit
# (never freed: class 6); besides them, each process allocates its keep[]
# arrays (never freed) and stdio's output buffer, and its threads a few
# blocks of their own. Asserted:
#   - the table of a 1-thread and an 8-thread recording, in the real
#     allocator: output byte-identical to glibc's; class histogram exactly
#     [2R, 0, 0, 0, 0, 0, R + 2] for 1 thread (R rounds; the +2: the keep
#     array and stdout's buffer), class 0 exactly 2RT for 8 threads and the
#     whole histogram equal to the simulator's on the 8-thread recording;
#     in a forked child (whose counters include its parent's) class 0
#     exactly 4RT, classes 1..5 empty;
#   - the simulator on each recording: per-class counts (the confusion
#     matrix's rows) equal to the real run's, every prediction a known site;
#   - a table over the default 8 frames from the 1-thread recording alone
#     does not know the 8-thread run's sites (their outer frames are the
#     thread's start, not main): every allocation gets the default class
#     6; over 2 frames (the caller of malloc and its caller) it does, and
#     class 0 is again exactly 2RT;
#   - cached:sitetab (LLAMA's cache keyed by stack height in front of it):
#     the same histogram as sitetab alone, with stack walks only on misses;
#   - the same program built optimised and without frame pointers
#     (pred_target_nofp; its sites keep a loop counter in rbp, so the
#     frame-pointer walk breaks at once and both sides must walk with
#     libunwind): a table of its recording gives exactly
#     [2R, 0, 0, 0, 0, 0, R + 2] in the real allocator under sitetab and
#     under cached:sitetab, whose deeper own frames (the cache, then the
#     table) once hid the caller from the walk (docs/predictors.md);
#   - bad tables: truncated, damaged (checksum), other classes: the real
#     allocator aborts with the one line naming the offset; `allocsim run`
#     exits 2 with "FILE: offset N: what (sitetab model)";
#   - train's usage errors (exit 2).
# Skipped (exit 77) when the preload library or the recorder is not built.
set -u
build=$1 A=$2
lib=$build/malloc/liballocsim_malloc.so
orig=$build/malloc/pred_target
nofp=$build/malloc/pred_target_nofp
if [[ ! -r $lib || ! -x $orig || ! -x $nofp || ! -r $build/traces/record/liballocsim_record.so ]]; then
  echo "preload library or recorder not built: skipped"
  exit 77
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
fail=0
bad() { echo "FAIL $*"; fail=1; }
R=2000

# Symbols looked up in the program's threads: each frame is named before
# its first allocation. By default a symbolizer thread names new pcs a
# little later (docs/recording.md), and the simulator predicts the
# allocations made meanwhile from an unnamed frame, i.e. its pc, which no
# table built from the final names holds (docs/predictors.md, sitetab).
export ALLOCSIM_RECORD_SYMBOLIZE=inline
"$A" record -q -o t1.ast -- "$orig" "$R" >/dev/null || { echo "FAIL record 1"; exit 1; }
"$A" record -q -o t8.ast -- "$orig" "$R" 8 >/dev/null || { echo "FAIL record 8"; exit 1; }
cp "$nofp" nofp_target # another directory than the run's
"$A" record -q -o tn.ast -- ./nofp_target "$R" >/dev/null || { echo "FAIL record nofp"; exit 1; }
unset ALLOCSIM_RECORD_SYMBOLIZE
"$A" train --predictor sitetab t1.ast t8.ast -o s.tab >train.out || { echo "FAIL train"; exit 1; }
"$A" train --predictor sitetab t1.ast -o s1.tab >/dev/null || bad "train s1"
"$A" train --predictor sitetab --frames 2 t1.ast -o s1f2.tab >/dev/null || bad "train s1f2"
echo "ok   recorded and built ($(grep -E '^(sites|table)' train.out | tr -s ' ' | tr '\n' ';'))"
# the run below is another process of a copy in another directory: other
# load addresses (ASLR: randomize_va_space=$(cat /proc/sys/kernel/randomize_va_space)),
# the same module file name and offsets
mkdir copy && cp "$orig" copy/pred_target
prog=$T/copy/pred_target

pre() { env LD_PRELOAD="$lib" ALLOCSIM_POLICY=llama "$@"; }
# hist FILE: the predictions' class histogram, space-separated
hist() { python3 -c 'import json, sys
print(" ".join(map(str, json.load(open(sys.argv[1]))["predictions"]["by_class"])))' "$1"; }
# sim_hist TRACE TABLE: the simulator's predicted-class counts (rows of
# the confusion matrix), then the unknown-site predictions
sim_hist() {
  rm -rf simrun
  "$A" run -q -p llama --predictor sitetab --predictor-load "$2" -o simrun "$1" >/dev/null 2>&1 ||
    { echo "run failed"; return; }
  python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
rows = d["predictions"]["confusion"]["by_allocs"]
s = d["stats"]
print(" ".join(str(sum(r)) for r in rows),
      int(s["predictor.sitetab_predictions"] - s["predictor.sitetab_known_predictions"]))' simrun/summary.json
}

# the simulator on the recordings
read -r -a s1 < <(sim_hist t1.ast s.tab)
read -r -a s8 < <(sim_hist t8.ast s.tab)
want1="$((2 * R)) 0 0 0 0 0 $((R + 2))"
if [[ "${s1[*]:0:7}" == "$want1" && ${s1[7]} == 0 ]]; then echo "ok   simulator, 1 thread: [${s1[*]:0:7}], all sites known"; else
  bad "simulator, 1 thread: [${s1[*]}], wanted [$want1] and 0 unknown"; fi
if [[ ${s8[0]} == $((16 * R)) && "${s8[*]:1:5}" == "0 0 0 0 0" && ${s8[6]} -ge $((8 * R)) && ${s8[7]} == 0 ]]; then
  echo "ok   simulator, 8 threads: [${s8[*]:0:7}], all sites known"; else
  bad "simulator, 8 threads: [${s8[*]}]"; fi

for args in "$R" "$R 8" "$R 8 fork"; do
  # shellcheck disable=SC2086
  "$orig" $args >glibc.out 2>&1 || bad "glibc run ($args)"
  # shellcheck disable=SC2086
  pre ALLOCSIM_PREDICTOR=sitetab ALLOCSIM_MODEL="$T/s.tab" ALLOCSIM_STATS="$T/st-%p.json" \
    "$prog" $args >pre.out 2>&1 || bad "preload run ($args): exit $?"
  if cmp -s glibc.out pre.out; then echo "ok   output as under glibc ($args)"; else
    bad "output differs ($args)"; diff glibc.out pre.out | head -5; fi
  n=0
  for f in st-*.json; do
    n=$((n + 1))
    h=$(hist "$f")
    read -r -a hh <<<"$h"
    case $args in
      "$R") ok=$([[ $h == "$want1" ]] && echo 1) ;;
      "$R 8") ok=$([[ $h == "${s8[*]:0:7}" ]] && echo 1) ;;
      *) # parent: as 8 threads; child: its own rounds on top of them
        ok=$([[ $h == "${s8[*]:0:7}" ]] || [[ ${hh[0]} == $((32 * R)) &&
          "${hh[*]:1:5}" == "0 0 0 0 0" && ${hh[6]} -ge $((16 * R)) &&
          ${hh[6]} -le $((2 * ${s8[6]})) ]] && echo 1) ;;
    esac
    if [[ $ok == 1 ]]; then echo "ok   classes [$h] ($args, $f)"; else
      bad "class histogram [$h] ($args, $f; simulator: 1 thread [${s1[*]:0:7}], 8 [${s8[*]:0:7}])"; fi
  done
  want=1; [[ $args == *fork ]] && want=2
  [[ $n == "$want" ]] || bad "$n statistics files, wanted $want ($args)"
  rm -f st-*.json
done

# frames: the 1-thread table over 8 frames does not know the threads' sites
pre ALLOCSIM_PREDICTOR=sitetab ALLOCSIM_MODEL="$T/s1.tab" ALLOCSIM_STATS="$T/f8.json" \
  "$prog" "$R" 8 >/dev/null 2>&1 || bad "s1.tab run"
read -r -a h <<<"$(hist f8.json)"
if [[ "${h[*]}" == "0 0 0 0 0 0 $((16 * R + ${s8[6]}))" ]]; then
  echo "ok   8 frames, table of 1 thread, run of 8: every site unknown [${h[*]}]"; else
  bad "8 frames, table of 1 thread, run of 8: [${h[*]}]"; fi
pre ALLOCSIM_PREDICTOR=sitetab ALLOCSIM_MODEL="$T/s1f2.tab" ALLOCSIM_STATS="$T/f2.json" \
  "$prog" "$R" 8 >/dev/null 2>&1 || bad "s1f2.tab run"
read -r -a h <<<"$(hist f2.json)"
if [[ ${h[0]} == $((16 * R)) && "${h[*]:1:5}" == "0 0 0 0 0" ]]; then
  echo "ok   2 frames, table of 1 thread, run of 8: [${h[*]}]"; else
  bad "2 frames, table of 1 thread, run of 8: [${h[*]}]"; fi

# cached:sitetab, keyed by stack height: the same answers, fewer walks
pre ALLOCSIM_PREDICTOR=cached:sitetab ALLOCSIM_PARAM=cached.key=height ALLOCSIM_MODEL="$T/s.tab" \
  ALLOCSIM_STATS="$T/c.json" "$prog" "$R" 8 >/dev/null 2>&1 || bad "cached:sitetab run"
read -r w p < <(python3 -c 'import json, sys
p = json.load(open(sys.argv[1]))["predictions"]
print(p["stack_walks"], p["predicted_allocs"])' c.json)
if [[ $(hist c.json) == "${s8[*]:0:7}" ]] && ((w * 20 < p)); then
  echo "ok   cached:sitetab: classes [$(hist c.json)], $w stack walks for $p predictions"; else
  bad "cached:sitetab: [$(hist c.json)], $w walks for $p predictions"; fi

# code without frame pointers: the recorder and the real allocator both
# take libunwind's frames, however deep the predictor's own frames are
"$A" train --predictor sitetab tn.ast -o sn.tab >/dev/null || bad "train sn"
mkdir nofp && cp "$nofp" nofp/nofp_target
for p in sitetab cached:sitetab; do
  pre ALLOCSIM_PREDICTOR=$p ALLOCSIM_MODEL="$T/sn.tab" ALLOCSIM_STATS="$T/n.json" \
    "$T/nofp/nofp_target" "$R" >/dev/null 2>&1 || bad "nofp run ($p)"
  h=$(hist n.json)
  if [[ $h == "$want1" ]]; then echo "ok   no frame pointers, $p: classes [$h]"; else
    bad "no frame pointers, $p: classes [$h], wanted [$want1]"; fi
done

# bad tables
len=$(stat -c %s s.tab)
head -c 100 s.tab >trunc.tab
python3 - s.tab bad.tab <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[100] ^= 1
open(sys.argv[2], "wb").write(b)
PY
"$A" train --predictor sitetab --classes 1ms,1s t1.ast -o cls.tab >/dev/null || bad "train cls"
refuse() { # NAME TABLE MESSAGE
  env LD_PRELOAD="$lib" ALLOCSIM_POLICY=llama ALLOCSIM_PREDICTOR=sitetab ALLOCSIM_MODEL="$2" \
    "$prog" 10 >ref.out 2>ref.err
  local rc=$?
  if [[ $rc == 134 && $(cat ref.err) == "allocsim: ALLOCSIM_MODEL=$2: $3 (sitetab model)" ]]; then
    echo "ok   refused: $1"; else bad "refused: $1: exit $rc, stderr: $(cat ref.err)"; fi
  rm -rf simrun
  "$A" run -q -p llama --predictor sitetab --predictor-load "$2" -o simrun t1.ast >ref.out 2>ref.err
  rc=$?
  if [[ $rc == 2 && $(grep -v warning ref.err) == "allocsim run: $2: $3 (sitetab model)" ]]; then
    echo "ok   run refused: $1"; else bad "run refused: $1: exit $rc, stderr: $(cat ref.err)"; fi
}
refuse "truncated" trunc.tab "offset 100: truncated: shorter than its site count says"
refuse "damaged" bad.tab "offset $((len - 8)): checksum mismatch (the file is damaged)"
refuse "other classes" cls.tab "offset 12: class count differs from the run's classes (build the table with the run's --classes)"
env LD_PRELOAD="$lib" ALLOCSIM_POLICY=llama ALLOCSIM_PREDICTOR=sitetab "$prog" 10 >ref.out 2>ref.err
if [[ $? == 134 && $(cat ref.err) == 'allocsim: ALLOCSIM_PREDICTOR: sitetab needs a model: set ALLOCSIM_MODEL to a file from `allocsim train --predictor sitetab`' ]]; then
  echo "ok   refused: no table"; else bad "no table: $(cat ref.err)"; fi

# train's usage errors
usage() { # NAME MESSAGE ARGS...
  local name=$1 msg=$2
  shift 2
  "$A" train "$@" >ref.out 2>ref.err
  local rc=$?
  if [[ $rc == 2 && $(cat ref.err) == "$msg" && ! -e x.tab ]]; then echo "ok   train refused: $name"; else
    bad "train $name: exit $rc, stderr: $(cat ref.err)"; fi
}
usage "lstm option" "allocsim train: --epochs applies to --predictor lstm only" \
  --predictor sitetab --epochs 3 t1.ast -o x.tab
usage "frames for lstm" "allocsim train: --frames applies to --predictor sitetab only" \
  --predictor lstm --frames 2 t1.ast -o x.tab
usage "frames 0" "allocsim train: --frames '0': must be a whole number (K, M, G, T: x1000) from 1 to 32" \
  --predictor sitetab --frames 0 t1.ast -o x.tab
printf 'not a trace' >junk.ast
"$A" train --predictor sitetab junk.ast -o x.tab >/dev/null 2>ref.err
rc=$?
if [[ $rc == 2 && $(cat ref.err) == "allocsim train: junk.ast: offset 0: "* && ! -e x.tab ]]; then
  echo "ok   train refused: not a trace"; else bad "train not a trace: exit $rc, $(cat ref.err)"; fi
exit $fail
