#!/usr/bin/env bash
# bench/glibc/fidelity.sh - the glibc model against the real glibc on the
# bundled real programs (issue 10, "The glibc model's peak heap footprint
# within 10% of the real glibc's"). Not part of `make test`.
#
#   bench/glibc/fidelity.sh ALLOCSIM [OUT]
#
# Records the workloads of data/record.sh (python, sqlite, redis) again into
# OUT with `--mallinfo-interval 1ms --mem-interval 1ms`, so each trace
# carries the real glibc's mallinfo2 and the process's RSS every ~1 ms
# (RECORD_OUT / RECORD_OPTS of data/record.sh: the same workloads, not a
# copy). Then replays each with `ALLOCSIM run -p glibc --sample-interval
# 1ms` (the model's mallinfo figures every 1 ms in policy_series.csv) and
# prints one markdown row per program:
#   - peak heap: the largest arena + hblkhd (bytes glibc holds from the
#     system: heaps, the break, mmapped chunks), real and model, and the
#     model's deviation;
#   - peak arena and peak hblkhd alone, real and model;
#   - at every real sample, the model's figures at the same time (its last
#     series row at or before it): the mean |model - real| / real of arena
#     and the mean |model - real| of fordblks in KiB, and in how many
#     samples hblks agrees exactly;
#   - resident: the model's peak resident bytes, the real peak RSS (the
#     whole process: program text, libraries, stacks and heap) and the real
#     RSS's growth from the first sample (a rough heap-resident figure).
# Redis (Debian's redis-server) links jemalloc: its glibc mallinfo2 is all
# zeros and the row says so. Everything but the recording is deterministic;
# the recording itself moves by a few pages between runs (libc and the
# loader allocate before the recorder starts; see docs/benchmarks.md).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
bench_init glibc-fidelity "$@"
build=$(dirname "$A")
for t in python sqlite redis; do
    [ -s "$W/$t.ast" ] ||
        RECORD_OUT=$W RECORD_OPTS="--mallinfo-interval 1ms --mem-interval 1ms" \
            REDIS_PORT=${REDIS_PORT:-63901} "$SRC/data/record.sh" "$build" "$t" >&2
    [ -s "$W/run-$t/summary.json" ] ||
        "$A" run -q --no-check -p glibc --sample-interval 1ms "$W/$t.ast" \
            -o "$W/run-$t" >/dev/null 2>"$W/run-$t.stderr"
    "$A" cat "$W/$t.ast" | awk '$1 == "s" && $5 == "mi"' >"$W/$t.mi.txt"
done
python3 - "$W" <<'PY' | tee "$W/fidelity.md"
import bisect, csv, json, os, sys
w = sys.argv[1]
print("| program | peak heap real | model | deviation | peak arena real / model "
      "| peak hblkhd real / model | arena: mean deviation | fordblks: mean "
      "absolute deviation | hblks equal | model peak resident | real peak RSS | real "
      "RSS growth |\n|---|---|---|---|---|---|---|---|---|---|---|---|")
for t in ("python", "sqlite", "redis"):
    s = json.load(open(os.path.join(w, f"run-{t}", "summary.json")))
    rows = list(csv.DictReader(open(os.path.join(w, f"run-{t}",
                                                  "policy_series.csv"))))
    mt = [int(r["t_ns"]) for r in rows]
    real = []
    for line in open(os.path.join(w, f"{t}.mi.txt")):
        f = line.split()
        real.append((int(f[1]), f[2], [int(x) for x in f[5:15]]))
    rss = [int(r[1]) for r in real if r[1] != "-"]
    heap = max(m[0] + m[4] for _, _, m in real)
    mheap = max(int(r["arena"]) + int(r["hblkhd"]) for r in rows)
    peak_res = s["metrics"]["peak_resident_bytes"]
    growth = max(rss) - rss[0] if rss else 0
    if heap == 0:
        print(f"| {t} | 0 (jemalloc, not glibc) | {mheap} | n/a | | | | | | "
              f"{peak_res} | {max(rss)} | {growth} |")
        continue
    da = df = eq = n = 0
    for ts, _, m in real:
        i = bisect.bisect_right(mt, ts) - 1
        if i < 0 or m[0] == 0:
            continue
        r = rows[i]
        n += 1
        da += abs(int(r["arena"]) - m[0]) / m[0]
        df += abs(int(r["fordblks"]) - m[8])
        eq += int(r["hblks"]) == m[3]
    pa = max(m[0] for _, _, m in real)
    ph = max(m[4] for _, _, m in real)
    ma = max(int(r["arena"]) for r in rows)
    mh = max(int(r["hblkhd"]) for r in rows)
    print(f"| {t} | {heap} | {mheap} | {mheap / heap - 1:+.2%} | {pa} / {ma} "
          f"| {ph} / {mh} | {da / n:.2%} | {df / n / 1024:.0f} KiB | {eq} of {n} | "
          f"{peak_res} | {max(rss)} | {growth} |")
PY
