#!/usr/bin/env bash
# check_malloc_predictor.sh BUILD ALLOCSIM SRC - the real allocator with a
# learned lifetime predictor (ALLOCSIM_PREDICTOR, docs/malloc.md), end to
# end: record tests/pred_target.c (two sites of 48-byte blocks: 2 x ROUNDS
# freed at once, class 0; ROUNDS kept until exit, the last class 6), train
# an LSTM on that trace, and run the program under
# LD_PRELOAD=liballocsim_malloc.so ALLOCSIM_POLICY=llama
# ALLOCSIM_PREDICTOR=cached:lstm ALLOCSIM_MODEL=model:
#   - the output is byte-identical to the run under glibc (1 thread,
#     8 threads, 8 threads and a fork), and python3's too (over 1000
#     predictions: its own allocator serves most small objects);
#   - ALLOCSIM_STATS counts every allocation of the two sites in its
#     class: class 0 holds the 2 x ROUNDS x THREADS scratch blocks, class
#     6 the ROUNDS x THREADS retained ones, and the two together at most
#     2 x THREADS + 1 others per process image (the keep arrays, stdout's
#     buffer, one block per thread that glibc's pthread_create allocates),
#     classes 1..5 none -- except the allocations whose thread gave up
#     waiting 100 ms for the predictor's mutex (lock_timeouts, no
#     prediction: docs/malloc.md; on a loaded machine the 8 threads'
#     waits can exceed it), each of which is missing from one of the two
#     classes; so with cached.key=height, which
#     walks the stack only on a cache miss (fewer walks than 1/20 of the
#     predictions), and in a forked child (its own statistics file,
#     whose figures include the parent's before the fork: twice as many);
#   - the statistics file has one "stats" object holding the predictor's
#     counters and the policy's own (llama placed at least 3 x ROUNDS x
#     THREADS small objects on pages it opened, the stats layer counted
#     every predicted allocation);
#   - ALLOCSIM_PREDICTOR=none writes no predictor figures;
#   - refused configurations print their one line and abort: an unknown
#     predictor, oracle, site, a policy that ignores lifetimes, lstm
#     without ALLOCSIM_MODEL, a missing and a corrupt model file.
# Skipped (exit 77) when the preload library or the recorder is not built.
set -u
. "$(dirname "$0")/checklib.sh"
lib=$B/malloc/liballocsim_malloc.so
prog=$B/malloc/pred_target
skip_unless_recorder "$lib" "$prog"
cd "$T" || exit 1
ROUNDS=2000

"$A" record -q -o t.ast -- "$prog" "$ROUNDS" >/dev/null || { echo "FAIL record"; exit 1; }
"$A" train --predictor lstm -q --min-contexts 1 --epochs 200 --valid 0 t.ast -o m.bin ||
  { echo "FAIL train"; exit 1; }
echo "ok   recorded and trained ($(stat -c %s m.bin) bytes)"

pre() { env LD_PRELOAD="$lib" ALLOCSIM_POLICY=llama ALLOCSIM_PREDICTOR=cached:lstm \
  ALLOCSIM_MODEL="$T/m.bin" "$@"; }

# by_class FILE: the predictions' class histogram, space-separated
by_class() { python3 -c 'import json, sys
print(" ".join(map(str, json.load(open(sys.argv[1]))["predictions"]["by_class"])))' "$1"; }
# hist_ok FILE THREADS: the histogram of the two sites (a forked child's
# figures include its parent's before the fork: twice the rounds)
hist_ok() {
  python3 - "$1" "$2" "$ROUNDS" <<'PY'
import json, sys
members = [k for k, _ in json.load(open(sys.argv[1]), object_pairs_hook=lambda p: p)]
d = json.load(open(sys.argv[1]))
t, r = int(sys.argv[2]), int(sys.argv[3])
h = d["predictions"]["by_class"]
# allocations that got no prediction because their thread gave up waiting
# for the predictor's mutex (a loaded machine): each is one of the sites'
# or one of the others
lt = d["predictions"]["lock_timeouts"]
k = 2 if h[6] + lt > 2 * r * t else 1
s = d["stats"]
o = (2 * t + 1) * k  # others: keep arrays, stdout's buffer, one per thread
ok = (len(h) == 7 and h[0] + lt >= 2 * k * r * t and h[6] + lt >= k * r * t
      and h[0] + h[6] + lt >= 3 * k * r * t
      and h[0] + h[6] - 3 * k * r * t <= o and sum(h[1:6]) == 0
      and d["predictor"] == {"name": "cached", "inner": {"name": "lstm"}}
      and s["predictor.inner.lstm_predictions"] >= 2
      and d["predictions"]["predicted_allocs"] == sum(h))
# one "stats" object with the predictor's, the layers' and the policy's
# own counters: the stats layer counted every predicted allocation, and
# llama placed at least the 3 x ROUNDS x THREADS 48-byte blocks as small
# objects on pages it opened
ok = ok and members.count("stats") == 1 and (
    s["policy.stats_allocs"] >= sum(h)
    and s["policy.llama_small_allocs"] >= 3 * k * r * t
    and s["policy.llama_pages_opened"] >= 1)
if not ok:
    print("  members", members, "by_class", h, "lock_timeouts", lt,
          {n: v for n, v in s.items()
          if n.startswith(("predictor.", "policy.llama_small", "policy.stats_allocs", "policy.pages_in"))})
sys.exit(0 if ok else 1)
PY
}
# walks FILE: stack walks and predictions
walks() { python3 -c 'import json, sys
p = json.load(open(sys.argv[1]))["predictions"]
print(p["stack_walks"], p["predicted_allocs"])' "$1"; }

for args in "$ROUNDS" "$ROUNDS 8" "$ROUNDS 8 fork"; do
  # shellcheck disable=SC2086
  "$prog" $args >glibc.out 2>&1 || bad "glibc run ($args)"
  # shellcheck disable=SC2086
  pre ALLOCSIM_STATS="$T/s-%p.json" "$prog" $args >pre.out 2>&1 || bad "preload run ($args): exit $?"
  if cmp -s glibc.out pre.out; then echo "ok   output as under glibc ($args)"; else
    bad "output differs ($args)"; diff glibc.out pre.out | head -5; fi
  threads=$(awk '{print $2}' <<<"$args"); threads=${threads:-1}
  n=0
  for f in s-*.json; do
    n=$((n + 1))
    if hist_ok "$f" "$threads"; then echo "ok   classes [$(by_class "$f")] ($args, $f)"; else
      bad "class histogram [$(by_class "$f")] ($args, $f)"; fi
  done
  want=1; [[ $args == *fork ]] && want=2
  [[ $n == "$want" ]] || bad "$n statistics files, wanted $want ($args)"
  rm -f s-*.json
done

pre ALLOCSIM_PARAM=cached.key=height ALLOCSIM_STATS="$T/h.json" "$prog" "$ROUNDS" 8 >/dev/null 2>&1 ||
  bad "key=height run"
if hist_ok h.json 8; then echo "ok   key=height: classes [$(by_class h.json)]"; else
  bad "key=height histogram [$(by_class h.json)]"; fi
read -r w p < <(walks h.json)
if ((w * 20 < p)); then echo "ok   key=height walks $w stacks for $p predictions"; else
  bad "key=height walked $w stacks for $p predictions"; fi

if command -v python3 >/dev/null; then
  py='import json; print(len(json.dumps([str(i) * 3 for i in range(20000)])))'
  python3 -c "$py" >py.glibc 2>&1
  pre ALLOCSIM_STATS="$T/py.json" python3 -c "$py" >py.pre 2>&1 || bad "python3 under the predictor: exit $?"
  # python's own allocator serves most small objects: a few thousand
  # reach malloc
  if cmp -s py.glibc py.pre && [[ $(walks py.json | awk '{print $2}') -gt 1000 ]]; then
    echo "ok   python3: same output, $(walks py.json | awk '{print $2}') predictions"
  else bad "python3 under the predictor"; fi
fi

env LD_PRELOAD="$lib" ALLOCSIM_POLICY=llama ALLOCSIM_PREDICTOR=none ALLOCSIM_STATS="$T/n.json" \
  "$prog" 100 >/dev/null 2>&1 || bad "ALLOCSIM_PREDICTOR=none run"
if grep -q '"predict' n.json; then bad "ALLOCSIM_PREDICTOR=none wrote predictor figures"; else
  echo "ok   ALLOCSIM_PREDICTOR=none: no predictor figures"; fi

# refuse NAME PATTERN ENV...: the program aborts with the one line
refuse() {
  local name=$1 pat=$2
  shift 2
  env LD_PRELOAD="$lib" "$@" "$prog" 10 >ref.out 2>ref.err
  local rc=$?
  if [[ $rc == 134 ]] && [[ $(wc -l <ref.err) == 1 ]] && grep -qE -e "$pat" ref.err; then
    echo "ok   refused: $name"
  else
    bad "refused: $name: exit $rc, stderr: $(cat ref.err)"
  fi
}
printf 'XSLSTM\0\n' >bad.bin; tail -c +9 m.bin >>bad.bin
refuse "unknown" "^allocsim: ALLOCSIM_PREDICTOR=lsmt: unknown predictor 'lsmt'; valid: none oracle adversarial site cached lstm sitetab$" \
  ALLOCSIM_POLICY=llama ALLOCSIM_PREDICTOR=lsmt
refuse "oracle" "^allocsim: ALLOCSIM_PREDICTOR=cached:oracle: oracle needs each object's future lifetime" \
  ALLOCSIM_POLICY=llama ALLOCSIM_PREDICTOR=cached:oracle
refuse "site" "^allocsim: ALLOCSIM_PREDICTOR=site: site learns from object outcomes, which the real allocator does not report" \
  ALLOCSIM_POLICY=llama ALLOCSIM_PREDICTOR=site ALLOCSIM_MODEL=m.bin
refuse "tcmalloc" "^allocsim: ALLOCSIM_PREDICTOR=lstm: policy tcmalloc does not place by lifetime class \(lifetime-aware policies: llama\)$" \
  ALLOCSIM_PREDICTOR=lstm ALLOCSIM_MODEL=m.bin
refuse "no model" "^allocsim: ALLOCSIM_PREDICTOR: lstm needs a model: set ALLOCSIM_MODEL" \
  ALLOCSIM_POLICY=llama ALLOCSIM_PREDICTOR=cached:lstm
refuse "missing model" "^allocsim: ALLOCSIM_MODEL=$T/nope.bin: no such file$" \
  ALLOCSIM_POLICY=llama ALLOCSIM_PREDICTOR=cached:lstm ALLOCSIM_MODEL="$T/nope.bin"
refuse "corrupt model" "^allocsim: ALLOCSIM_MODEL=bad.bin: offset 0: not an allocsim LSTM model \(bad magic\) \(lstm model\)$" \
  ALLOCSIM_POLICY=llama ALLOCSIM_PREDICTOR=lstm ALLOCSIM_MODEL=bad.bin
refuse "bad parameter" "^allocsim: ALLOCSIM_PARAM: 'cached.key=nope': cached.key must be " \
  ALLOCSIM_POLICY=llama ALLOCSIM_PREDICTOR=cached:lstm ALLOCSIM_MODEL=m.bin ALLOCSIM_PARAM=cached.key=nope
exit $fail
