#!/usr/bin/env bash
# check_phys_cli: `allocsim run --param os.phys_mem=...` end to end.
#   - os.phys_mem=0 (the default) writes exactly what a run without it
#     writes, with no "phys" section and the 15 series.csv columns;
#   - with 256 MiB (more than data/redis.ast ever holds) the process's
#     figures are those of unlimited memory, summary.json has a "phys"
#     section whose free, process and deferred bytes add up to the memory
#     size, and series.csv has the six machine columns;
#   - tenants: the page cache and unmovable levels asked for are held at the
#     end, and two runs with the same seed write the same summary;
#   - 8 MiB is too little: exit 1 with a message naming os.phys_mem;
#     a size that is not a multiple of 4 MiB and an unknown defrag mode are
#     usage errors (exit 2).
# Arguments: BUILD_DIR ALLOCSIM SOURCE_DIR
set -u -o pipefail
. "$(dirname "$0")/checklib.sh"
tr=$S/data/redis.ast

check "default run" 0 "" -- "$A" run -p tcmalloc "$tr" -o "$T/a"
check "phys_mem=0" 0 "" -- "$A" run -p tcmalloc "$tr" -o "$T/b" -P os.phys_mem=0
if ! cmp -s "$T/a/series.csv" "$T/b/series.csv" ||
  [ "$(nosum "$T/a/summary.json")" != "$(nosum "$T/b/summary.json")" ]; then
  echo "FAIL phys_mem=0 differs from the default"; fail=1
fi
python3 - "$T/a" <<'PY' || fail=1
import json, sys
d = json.load(open(sys.argv[1] + "/summary.json"))
assert "phys" not in d, "phys section without os.phys_mem"
assert d["os"]["params"]["phys_mem"] == 0
hdr = open(sys.argv[1] + "/series.csv").readline().strip().split(",")
assert len(hdr) == 15, hdr
print("ok   no phys section, 15 columns by default")
PY

check "phys_mem=256M" 0 "" -- "$A" run -p tcmalloc "$tr" -o "$T/c" -P os.phys_mem=256M
python3 - "$T/a" "$T/c" <<'PY' || fail=1
import json, sys, csv
a = json.load(open(sys.argv[1] + "/summary.json"))
c = json.load(open(sys.argv[2] + "/summary.json"))
assert a["metrics"] == c["metrics"], "process figures moved with ample memory"
p = c["phys"]
assert p["mem_bytes"] == 256 << 20
assert len(p["free_blocks"]) == 11
free = sum(n << o for o, n in enumerate(p["free_blocks"])) * 4096
assert free == p["free_bytes"], (free, p["free_bytes"])
assert p["free_bytes"] + p["process_frames"] * 4096 + p["deferred_split_bytes"] == p["mem_bytes"], p
assert p["thp_fault_fallbacks"] == 0 and p["tenant_cache_bytes"] == 0
rows = list(csv.DictReader(open(sys.argv[2] + "/series.csv")))
for k in ("phys_free_bytes", "phys_free_2m_blocks", "unusable_index_9",
          "fragmentation_index_9", "deferred_split_bytes", "tenant_bytes"):
    assert k in rows[0], k
assert rows[0]["phys_free_bytes"] == str(256 << 20)
assert rows[0]["unusable_index_9"] == "0.000"
assert rows[0]["fragmentation_index_9"] == "-1.000"
for r in rows:
    assert 0 <= float(r["unusable_index_9"]) <= 1
print("ok   phys section and series columns")
PY

ten=(-P os.phys_mem=64M -P os.tenant_cache=16M -P os.tenant_unmovable=4M -P os.tenant_churn=50 -P os.defrag=defer)
check "tenants" 0 "" -- "$A" run -p llama "$tr" -o "$T/d" "${ten[@]}"
check "tenants again" 0 "" -- "$A" run -p llama "$tr" -o "$T/e" "${ten[@]}"
if [ "$(nosum "$T/d/summary.json")" != "$(nosum "$T/e/summary.json")" ] ||
  ! cmp -s "$T/d/series.csv" "$T/e/series.csv"; then
  echo "FAIL tenants: two runs differ"; fail=1
fi
python3 - "$T/d" <<'PY' || fail=1
import json, sys
p = json.load(open(sys.argv[1] + "/summary.json"))["phys"]
assert p["tenant_cache_bytes"] == 16 << 20, p
assert p["tenant_unmovable_bytes"] == 4 << 20, p
assert p["free_bytes"] + p["process_frames"] * 4096 + p["deferred_split_bytes"] + \
    p["tenant_cache_bytes"] + p["tenant_unmovable_bytes"] == p["mem_bytes"], p
print("ok   tenants hold their levels")
PY

check "too little memory" 1 "simulated physical memory exhausted \(os.phys_mem=8388608" -- \
  "$A" run -p tcmalloc "$tr" -o "$T/f" -P os.phys_mem=8M
[ -e "$T/f" ] && { echo "FAIL a failed run left $T/f"; fail=1; }
check "not a multiple of 4M" 2 "os.phys_mem=10485760: must be a multiple of 4M" -- \
  "$A" run -p tcmalloc "$tr" -o "$T/g" -P os.phys_mem=10M
check "bad defrag" 2 "defrag" -- "$A" run -p tcmalloc "$tr" -o "$T/h" -P os.defrag=sometimes
exit $fail
