#!/usr/bin/env python3
"""bench/lstm/table.py OUT_DIR - the Markdown tables of docs/predictors/lstm.md
from the JSON files bench/lstm/run.sh wrote."""
import json, os, sys

out = sys.argv[1]


def load(name):
    p = os.path.join(out, name)
    return json.load(open(p)) if os.path.exists(p) else None


def cols(d):
    return {p["name"]: p for p in d["predictors"]}


print("| train -> test | predictor | alloc acc | byte acc | context acc |"
      " unseen allocs | acc on unseen | ns/prediction |")
print("|---|---|---|---|---|---|---|---|")
for name, label in [("sqlite-a-on-b.json", "sqlite A -> B"),
                    ("python-a-on-b.json", "python A -> B"),
                    ("python-a-on-b-small.json", "python A -> B (H16, 16 words)"),
                    ("sqlite-a-on-a.json", "sqlite A -> A"),
                    ("python-a-on-a.json", "python A -> A"),
                    ("redis-a-on-a.json", "redis A -> A")]:
    d = load(name)
    if not d:
        continue
    o = cols(d)["oracle"]
    per = [sum(row) for row in o["confusion"]]
    print("| %s | (constant: the test's most common class, %d) | %.4f | | | | | |"
          % (label, per.index(max(per)), max(per) / sum(per)))
    for p in d["predictors"]:
        print("| %s | %s | %.4f | %.4f | %.4f | %d | %.4f | %.0f |" % (
            label, p["name"], p["accuracy_allocations"], p["accuracy_bytes"],
            p["accuracy_contexts"], p.get("unseen_allocations", 0),
            p.get("accuracy_unseen", 0), p["ns_per_prediction"]))
print()
print("| run | samples (allocations) | contexts | words | epochs (best) |"
      " train CPU s | model bytes | mem bytes | cached hit ns |")
print("|---|---|---|---|---|---|---|---|---|")
for name, label in [("sqlite-a-on-b.json", "sqlite A"),
                    ("python-a-on-b.json", "python A"),
                    ("python-a-on-b-small.json", "python A, H16")]:
    d = load(name)
    if not d or "training" not in d:
        continue
    t = d["training"]
    print("| %s | %d | %d | %d | %d (%d) | %.1f | %d | %d | %.1f |" % (
        label, t["allocations"], t["contexts"], t["vocab"], t["epochs"],
        t["best_epoch"], t["train_seconds"], d["model_file_bytes"],
        d["model_mem_bytes"], d["cached_hit_ns"]))
print()
for name in ["sqlite-a-on-b.json", "python-a-on-b.json"]:
    d = load(name)
    if not d:
        continue
    c = cols(d)
    print("%s: per class recall (lstm / site): %s" % (name, ", ".join(
        "%d: %.3f / %.3f" % (k, c["lstm"]["recall"][k],
                             c["site"]["recall"][k] if "site" in c else 0)
        for k in range(d["classes"]))))
print()
runs = {}
for run in ["run-tcmalloc", "run-llama-oracle", "run-llama-lstm"]:
    p = os.path.join(out, run, "summary.json")
    if os.path.exists(p):
        m = json.load(open(p))["metrics"]
        runs[run] = (m["peak_resident_bytes"], m["fragmentation"]["jw4"])
        print("%s: peak resident %d bytes, fragmentation jw4 %.4f" %
              ((run,) + runs[run]))
if len(runs) == 3:
    t, o, l = (runs[k][1] for k in ("run-tcmalloc", "run-llama-oracle",
                                     "run-llama-lstm"))
    if t != o:
        print("llama+lstm's jw4 saving over tcmalloc as a fraction of "
              "llama+oracle's: (%.4f - %.4f) / (%.4f - %.4f) = %.2f" %
              (t, l, t, o, (t - l) / (t - o)))
