#!/usr/bin/env python3
"""bench/lstm/cached_table.py OUT - the tables of bench/lstm/cached_range.sh.

For each trace: tcmalloc, llama + oracle, then llama with cached:site and
cached:lstm at the defaults and with one parameter moved; peak and mean
resident (MiB and / tcmalloc's), waste reduction against tcmalloc (waste
= mean resident - mean live; 1 - waste / tcmalloc's waste), allocation-
weighted accuracy and the cache's hit rate. Then the range of each column
over the variants, per inner predictor.
"""
import json, os, sys

MiB = 1 << 20


def load(d):
    p = os.path.join(d, "summary.json")
    if not os.path.exists(p):
        return None
    x = json.load(open(p))
    m = x["metrics"]
    pr = x.get("predictions") or {}
    st = x.get("stats") or {}
    return {"peak": m["peak_resident_bytes"], "mean": m["mean_resident_bytes"],
            "live": m["mean_live_bytes"],
            "acc": pr.get("accuracy_by_allocs"),
            "hit": st.get("predictor.cached_hit_rate")}


def label(cfg):
    parts = cfg.split(",")
    if parts[0] == "tcmalloc":
        return "tcmalloc", ""
    pred = parts[1].split("=", 1)[1] if len(parts) > 1 else "?"
    var = ", ".join(p.replace("cached.", "") for p in parts[2:]) or "defaults"
    return "llama + " + pred, var


def main():
    out = sys.argv[1]
    traces = sorted({d.rsplit("-", 1)[0] for d in os.listdir(out)
                     if os.path.isdir(os.path.join(out, d))})
    for t in traces:
        runs = []
        for part in ("site", "lstm", "lstm150"):
            d = os.path.join(out, f"{t}-{part}")
            if not os.path.isdir(d):
                continue
            for cfg in sorted(os.listdir(d)):
                r = load(os.path.join(d, cfg))
                if r:
                    who, var = label(cfg)
                    if part == "lstm150":
                        who += " (model: first 150 s)"
                    runs.append((who, var, r))
        tc = next((r for w, v, r in runs if w == "tcmalloc"), None)
        if not tc:
            continue
        wtc = tc["mean"] - tc["live"]
        print(f"\n### {t}\n")
        print("| run | variant | peak MiB | ÷ tcmalloc | mean MiB | ÷ tcmalloc "
              "| waste reduction vs tcmalloc | alloc accuracy | hit rate |")
        print("|---|---|---|---|---|---|---|---|---|")
        order = {"tcmalloc": 0, "llama + oracle": 1}
        runs.sort(key=lambda x: (order.get(x[0], 2), x[0], x[1] != "defaults",
                                 x[1]))
        for who, var, r in runs:
            wr = 1 - (r["mean"] - r["live"]) / wtc if wtc else 0
            acc = "" if r["acc"] is None or who == "tcmalloc" else f"{r['acc']:.4f}"
            hit = "" if r["hit"] is None else f"{r['hit']:.4f}"
            print(f"| {who} | {var} | {r['peak'] / MiB:.2f} | "
                  f"{r['peak'] / tc['peak']:.3f} | {r['mean'] / MiB:.2f} | "
                  f"{r['mean'] / tc['mean']:.3f} | {wr:+.3f} | {acc} | {hit} |")
        print()
        for inner in ("cached:site", "cached:lstm"):
            sel = [r for w, v, r in runs if w == "llama + " + inner]
            if not sel:
                continue
            pk = [r["peak"] / tc["peak"] for r in sel]
            mn = [r["mean"] / tc["mean"] for r in sel]
            ac = [r["acc"] for r in sel if r["acc"] is not None]
            print(f"- llama + {inner}, {len(sel)} settings: peak "
                  f"{min(pk):.3f}–{max(pk):.3f} × tcmalloc's, mean "
                  f"{min(mn):.3f}–{max(mn):.3f} ×, accuracy "
                  f"{min(ac):.4f}–{max(ac):.4f}")


if __name__ == "__main__":
    main()
