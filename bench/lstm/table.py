#!/usr/bin/env python3
"""bench/lstm/table.py OUT_DIR - the report of docs/predictors/lstm.md
("Measurements") as Markdown, from the JSON files bench/lstm/run.sh wrote.
Every figure comes from those files; nothing is typed in."""
import json, os, sys

out = sys.argv[1]
PROGS = [("sqlite", "sqlite3: other schema and queries"),
         ("python", "python3: another script"),
         ("cc1", "gcc cc1: another source file"),
         ("servermix", "server-mix: seed 1 -> seed 2")]


def load(name):
    p = os.path.join(out, name)
    try:
        with open(p) as f:
            return json.load(f)
    except (OSError, ValueError):  # not (yet) written
        return None


def cols(d):
    return {p["name"]: p for p in d["predictors"]}


def evals():
    """(program, label, eval JSON, its columns by name) of each A -> B run."""
    for prog, label in PROGS:
        d = load(prog + "-a-on-b.json")
        if d:
            yield prog, label, d, cols(d)


def f4(x):
    return "%.4f" % x


print("### Accuracy on another run (train on A, score on B)\n")
print("| program (B) | predictor | alloc acc | byte acc | context acc |"
      " unseen allocs | acc on unseen | CPU ns/prediction |")
print("|---|---|---|---|---|---|---|---|")
for prog, label, d, c in evals():
    n = c["oracle"]["allocations"]
    # the constant answer: the test trace's most common class
    conf = c["lstm"]["confusion"]
    per = [sum(conf[k]) for k in range(d["classes"])]
    best = max(range(d["classes"]), key=lambda k: per[k])
    print("| %s | (constant: class %d) | %s | | | | | |" %
          (label, best, f4(per[best] / n if n else 0)))
    for name in ("lstm", "cached:lstm", "site", "oracle"):
        p = c.get(name)
        if not p:
            continue
        print("| %s | %s | %s | %s | %s | %d | %s | %.0f |" %
              (label, name, f4(p["accuracy_allocations"]),
               f4(p["accuracy_bytes"]), f4(p["accuracy_contexts"]),
               p["unseen_allocations"], f4(p["accuracy_unseen"]),
               p["ns_per_prediction"]))
print()
print("Recall per class, allocation-weighted, lstm / site (classes the "
      "test trace has):\n")
print("| program (B) | " + " | ".join("class %d" % k for k in range(7)) + " |")
print("|---|" + "---|" * 7)
for prog, label, d, c in evals():
    conf = c["lstm"]["confusion"]
    row = []
    for k in range(d["classes"]):
        if sum(conf[k]) == 0:
            row.append("-")
        else:
            row.append("%.3f / %.3f (%d)" % (c["lstm"]["recall"][k],
                                             c["site"]["recall"][k],
                                             sum(conf[k])))
    print("| %s | %s |" % (prog, " | ".join(row)))
print()
print("### Cache (LLAMA's: key=height, per thread, 4096 entries)\n")
print("| program (B) | hit rate while scoring | replay: CPU ns per lookup |"
      " replay hit rate | run: hit rate key=height, per thread |"
      " run: hit rate key=pc, shared |")
print("|---|---|---|---|---|---|")
for prog, label, d, c in evals():
    r1 = load("run-%s-llama-lstm/summary.json" % prog)
    r2 = load("run-%s-llama-lstm-pc/summary.json" % prog)

    def hr(r):
        if not r:
            return ""
        s = r.get("stats", {})
        v = s.get("predictor.cached_hit_rate")
        return f4(v) if v is not None else ""
    print("| %s | %s | %.1f | %s | %s | %s |" %
          (prog, f4(d["cached_score_hit_rate"]), d["cached_hit_ns"],
           f4(d["cached_hit_rate"]), hr(r1), hr(r2)))
print()
print("### Training, and the PyTorch reference on the same samples\n")
print("| training set | allocation samples | contexts | words | epochs (best) |"
      " our train CPU s | our held-out acc | PyTorch CPU s | PyTorch held-out acc |"
      " ours / PyTorch time | model file bytes |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for prog in ("sqlite", "python", "cc1", "servermix", "redis"):
    t = load(prog + "-train.json")
    if not t:
        continue
    p = load(prog + "-torch.json")
    pt = ("%.1f" % p["train_cpu_seconds"], f4(p["valid_acc"]),
          "%.2f" % (t["train_seconds"] / p["train_cpu_seconds"])) if p else ("", "", "")
    print("| %s | %d | %d | %d | %d (%d) | %.1f | %s | %s | %s | %s | %d |" %
          (prog, t["samples"], t["contexts"], t["vocab"], t["epochs"],
           t["best_epoch"], t["train_seconds"], f4(t["valid_accuracy"]),
           pt[0], pt[1], pt[2], t["model_bytes"]))
print()
print("### LLAMA end to end on B\n")
print("| trace | tcmalloc jw4 | llama+oracle jw4 | llama+cached:lstm jw4 |"
      " saving as a fraction of the oracle's | peak resident MiB "
      "(tcmalloc / oracle / lstm) |")
print("|---|---|---|---|---|---|")
for prog in ("sqlite", "python", "cc1", "servermix", "redis"):
    r = [load("run-%s-%s/summary.json" % (prog, k))
         for k in ("tcmalloc", "llama-oracle", "llama-lstm")]
    if not all(r):
        continue
    j = [x["metrics"]["fragmentation"]["jw4"] for x in r]
    pk = [x["metrics"]["peak_resident_bytes"] / 2**20 for x in r]
    den = j[0] - j[1]
    frac = ("%.2f" % ((j[0] - j[2]) / den) if den > 1e-12 else
            "n/a (the oracle does no better than tcmalloc)")
    trace = prog + ("-b" if prog != "redis" else " (data/redis.ast, trained on itself)")
    print("| %s | %.4f | %.4f | %.4f | %s | %.1f / %.1f / %.1f |" %
          (trace, j[0], j[1], j[2], frac, pk[0], pk[1], pk[2]))
