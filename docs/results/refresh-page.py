"""Regenerates the machine-written parts of docs/results.md from the committed sweep CSVs: the analyze-sweep tables
(between <!-- depth-table --> / <!-- width-table --> markers), the
shape-by-shape comparison with the authors' implementation (<!-- reference-depth -->, <!-- reference-width -->), the
same runs on the CPU and the GPU (<!-- device-depth -->, <!-- device-width -->) and the run counts (<!-- status-counts -->). The prose (findings, comparisons) is written by hand from these tables.

usage (from the repository root):  python3 docs/results/refresh-page.py
It runs `dotnet run --project src/CompleteP.Parameterization.Cli -- analyze-sweep CSV --format markdown` for each CSV
that exists; a table whose CSV is missing is left as it is.
"""
import csv
import json
import math
import os
import re
import subprocess
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAGE = os.path.join(ROOT, "docs", "results.md")
TABLES = {  # marker -> CSV
    "depth-table": "docs/results/lr-sweep-depth-laptop.csv",
    "depth-reference-table": "docs/results/lr-sweep-depth-reference.csv",
    "width-table": "docs/results/lr-sweep-width-laptop.csv",
    "width-reference-table": "docs/results/lr-sweep-width-reference.csv",
    "batch-table": "docs/results/batch-transfer.csv",
    "length-table": "docs/results/length-transfer.csv",
    "hp-table": "docs/results/hp-search.csv",
    "paper-width-table": "docs/results/lr-sweep-width.csv",
}
DEPTH = (["completep", "mup", "sp", "alpha=0.5"], 4 * 17, 3)
WIDTH = (["completep", "mup", "sp"], 4 * 17, 3)
PLANNED = {  # CSV -> (what, (parameterizations, shapes per seed, seeds))
    "docs/results/lr-sweep-depth-laptop.csv": ("Ours, depth (GPU)", DEPTH),
    "docs/results/lr-sweep-width-laptop.csv": ("Ours, width (GPU)", WIDTH),
    "docs/results/lr-sweep-depth-reference.csv": ("The authors', depth (GPU)", DEPTH),
    "docs/results/lr-sweep-width-reference.csv": ("The authors', width (GPU)", WIDTH),
    "docs/results/lr-sweep-depth-cpu.csv": ("Ours on the CPU, depth", DEPTH),
    "docs/results/lr-sweep-width-cpu.csv": ("Ours on the CPU, width", WIDTH),
    # issue 17's paper-scale protocol (run-gpu-paper.sh): widths 128-1024 at depth 4 with 17 LRs; depths 2-64 with 15 LRs
    "docs/results/lr-sweep-width.csv": ("Paper scale, width 128 to 1024 (GPU)", (["completep", "mup", "sp"], 4 * 17, 3)),
    "docs/results/lr-sweep-depth.csv": ("Paper scale, depth 2 to 64 (GPU)", (["completep", "mup", "sp", "alpha=0.5"], 6 * 15, 3)),
}


def analyze(path, form="markdown"):
    out = subprocess.run(["dotnet", "run", "--project", os.path.join(ROOT, "src", "CompleteP.Parameterization.Cli"), "--",
                          "analyze-sweep", os.path.join(ROOT, path), "--format", form], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def counts(path):
    """One sentence: runs per parameterization and seed, out of the plan."""
    names, per_seed, seeds = PLANNED[path][1]
    with open(os.path.join(ROOT, path), newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    done = Counter((r["parameterization"], r["seed"]) for r in rows)
    devices = Counter(r["device"] for r in rows)
    diverged = sum(r["diverged"] == "true" for r in rows)
    parts = []
    for name in names:
        have = [done[(name, str(s))] for s in range(1, seeds + 1)]
        if sum(have) == 0:
            parts.append(f"{name}: not started")
        elif all(h == per_seed for h in have):
            parts.append(f"{name}: all {seeds} seeds")
        else:
            parts.append(f"{name}: " + ", ".join(f"seed {s} {h} of {per_seed}" for s, h in zip(range(1, seeds + 1), have)))
    where = ", ".join(f"{n} on {d}" for d, n in sorted(devices.items()))
    return f"{len(rows)} of {len(names) * per_seed * seeds} runs ({'; '.join(parts)}; {where}); {diverged} diverged"


def optima(path):
    """analyze-sweep's optima of a CSV, by (parameterization, width, depth)."""
    return {(o["parameterization"], o["width"], o["depth"]): o for o in json.loads(analyze(path, "json"))["optima"]}


def side_by_side(ours_path, reference_path, axis):
    """Ours beside the authors' implementation, shape by shape: the fitted best LR, its drift, the best loss and the verdict."""
    ours, theirs = optima(ours_path), optima(reference_path)
    lines = [f"| parameterization | {axis} | best lr, log2: ours | theirs | drift (oct): ours | theirs | best loss: ours | theirs | verdict: ours | theirs |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    def cell(o, key, form):
        return "-" if o is None or o.get(key) is None else format(o[key], form)
    def loss(o):
        return "-" if o is None or o["loss"] is None else f"{o['loss']:.3f} ± {o['standardError'] or 0:.3f}"
    for key in sorted(set(ours) | set(theirs), key=lambda k: (["completep", "mup", "sp", "alpha=0.5"].index(k[0]), k[2], k[1])):
        a, b = ours.get(key), theirs.get(key)
        log2 = lambda o: "-" if o is None or o["bestLearningRate"] is None else f"{math.log2(o['bestLearningRate']):.2f}"
        lines.append(f"| {key[0]} | {key[2] if axis == 'depth' else key[1]} | {log2(a)} | {log2(b)} | {cell(a, 'drift', '+.2f')} | {cell(b, 'drift', '+.2f')} | "
                     f"{loss(a)} | {loss(b)} | {(a or {}).get('verdict') or '-'} | {(b or {}).get('verdict') or '-'} |")
    return "\n".join(lines)


def device_comparison(cpu_path, gpu_path):
    """The same runs (settings and seed) on the CPU and on the GPU: how far apart their validation losses are."""
    def load(path):
        with open(os.path.join(ROOT, path), newline="", encoding="utf-8") as f:
            return {tuple(r[c] for c in KEY): r for r in csv.DictReader(f) if r["diverged"] == "false"}
    cpu, gpu = load(cpu_path), load(gpu_path)
    shared = [k for k in cpu if k in gpu]
    if not shared:
        return "No run is in both CSVs yet."
    diffs = [float(cpu[k]["valLoss"]) - float(gpu[k]["valLoss"]) for k in shared]
    absolute = sorted(abs(d) for d in diffs)
    below = sum(a < 0.01 for a in absolute)
    return (f"{len(shared)} runs are in both: CPU minus GPU valLoss is {sum(diffs) / len(diffs):+.4f} on average; the median "
            f"|difference| is {absolute[len(absolute) // 2]:.4f}, {below} of {len(shared)} differ by less than 0.01 nats, and the largest "
            f"differs by {absolute[-1]:.3f}.")


KEY = ["parameterization", "width", "depth", "baseWidth", "baseDepth", "lr", "seed", "steps", "batch", "block", "schedule",
       "beta1", "beta2", "eps", "weightDecay", "gradClip", "bias", "tiedHead"]


def splice(page, marker, text):
    pattern = re.compile(f"(<!-- {re.escape(marker)} -->)(.*?)(<!-- /{re.escape(marker)} -->)", re.S)
    if not pattern.search(page):
        return page
    return pattern.sub(lambda m: m.group(1) + "\n" + text + "\n" + m.group(3), page)


def main():
    with open(PAGE, encoding="utf-8") as f:
        page = f.read()
    for marker, path in TABLES.items():
        if os.path.exists(os.path.join(ROOT, path)) and f"<!-- {marker} -->" in page:
            page = splice(page, marker, analyze(path))
            print(f"{marker}: from {path}")
    for marker, ours, theirs, axis in [("reference-depth", "docs/results/lr-sweep-depth-laptop.csv", "docs/results/lr-sweep-depth-reference.csv", "depth"),
                                       ("reference-width", "docs/results/lr-sweep-width-laptop.csv", "docs/results/lr-sweep-width-reference.csv", "width")]:
        if all(os.path.exists(os.path.join(ROOT, p)) for p in (ours, theirs)):
            page = splice(page, marker, side_by_side(ours, theirs, axis))
    for marker, cpu, gpu in [("device-depth", "docs/results/lr-sweep-depth-cpu.csv", "docs/results/lr-sweep-depth-laptop.csv"),
                             ("device-width", "docs/results/lr-sweep-width-cpu.csv", "docs/results/lr-sweep-width-laptop.csv")]:
        if all(os.path.exists(os.path.join(ROOT, p)) for p in (cpu, gpu)):
            page = splice(page, marker, device_comparison(cpu, gpu))
    status = [f"{PLANNED[p][0]}: {counts(p)}" for p in PLANNED if os.path.exists(os.path.join(ROOT, p))]
    page = re.sub(r"(<!-- status-counts -->)(.*?)(<!-- /status-counts -->)", lambda m: m.group(1) + "\n" + "\n".join(f"- {line}." for line in status) + "\n" + m.group(3), page, flags=re.S)
    with open(PAGE, "w", encoding="utf-8") as f:
        f.write(page)
    print("status: " + ". ".join(status))


if __name__ == "__main__":
    main()
