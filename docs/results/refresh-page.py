"""Regenerates the machine-written parts of docs/results.md from the committed sweep CSVs: the analyze-sweep tables
(between <!-- depth-table --> / <!-- width-table --> markers), the
side-by-side comparison with the authors' implementation (<!-- reference-comparison -->) and the status counts
(<!-- status-counts -->). The prose (findings, comparisons) is written by hand from these tables.

usage (from the repository root):  python3 docs/results/refresh-page.py
It runs `dotnet run --project src/CompleteP.Parameterization.Cli -- analyze-sweep CSV --format markdown` for each CSV
that exists; a table whose CSV is missing is left as it is.
"""
import csv
import math
import os
import re
import subprocess
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAGE = os.path.join(ROOT, "docs", "results.md")
TABLES = {  # marker -> CSV
    "depth-table": "docs/results/lr-sweep-depth-cpu.csv",
    "width-table": "docs/results/lr-sweep-width-cpu.csv",
}
PLANNED = {  # CSV -> (parameterizations, shapes per seed, seeds)
    "docs/results/lr-sweep-depth-cpu.csv": (["completep", "mup", "sp", "alpha=0.5"], 4 * 17, 3),
    "docs/results/lr-sweep-width-cpu.csv": (["completep", "mup", "sp"], 4 * 17, 3),
}


def analyze(path):
    out = subprocess.run(["dotnet", "run", "--project", os.path.join(ROOT, "src", "CompleteP.Parameterization.Cli"), "--",
                          "analyze-sweep", os.path.join(ROOT, path), "--format", "markdown"], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def counts(path):
    """One sentence: runs per parameterization and seed, out of the plan."""
    names, per_seed, seeds = PLANNED[path]
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


def comparison(ours_path, reference_path):
    """Ours beside the authors' implementation: valLoss per parameterization, depth, width and LR, for every seed both ran."""
    def load(path):
        with open(os.path.join(ROOT, path), newline="", encoding="utf-8") as f:
            return {(r["parameterization"], int(r["depth"]), int(r["width"]), float(r["lr"]), r["seed"]): r for r in csv.DictReader(f)}
    ours, reference = load(ours_path), load(reference_path)
    shared = sorted(k for k in reference if k in ours)
    lines = ["| parameterization | depth | width | lr | log2 lr | seed | ours valLoss | authors' valLoss | ours - authors |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    diffs = []
    for k in shared:
        a, b = ours[k], reference[k]
        if a["diverged"] == "true" or b["diverged"] == "true":
            lines.append(f"| {k[0]} | {k[1]} | {k[2]} | {k[3]:.3g} | {math.log2(k[3]):.1f} | {k[4]} | {'diverged' if a['diverged'] == 'true' else a['valLoss'][:6]} | {'diverged' if b['diverged'] == 'true' else b['valLoss'][:6]} | - |")
            continue
        d = float(a["valLoss"]) - float(b["valLoss"])
        diffs.append(d)
        lines.append(f"| {k[0]} | {k[1]} | {k[2]} | {k[3]:.3g} | {math.log2(k[3]):.1f} | {k[4]} | {float(a['valLoss']):.4f} | {float(b['valLoss']):.4f} | {d:+.4f} |")
    if diffs:
        mean = sum(diffs) / len(diffs)
        lines.append("")
        lines.append(f"{len(diffs)} runs both finished: ours minus the authors' valLoss is {mean:+.4f} on average, "
                     f"from {min(diffs):+.4f} to {max(diffs):+.4f}.")
    return "\n".join(lines)


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
    if os.path.exists(os.path.join(ROOT, "docs/results/lr-sweep-depth-reference.csv")):
        page = splice(page, "reference-comparison", comparison("docs/results/lr-sweep-depth-cpu.csv", "docs/results/lr-sweep-depth-reference.csv"))
    status = [f"{'Depth' if 'depth' in p else 'Width'} sweep: {counts(p)}" for p in PLANNED if os.path.exists(os.path.join(ROOT, p))]
    page = re.sub(r"(<!-- status-counts -->)(.*?)(<!-- /status-counts -->)", lambda m: m.group(1) + ". ".join(status) + "." + m.group(3), page, flags=re.S)
    with open(PAGE, "w", encoding="utf-8") as f:
        f.write(page)
    print("status: " + ". ".join(status))


if __name__ == "__main__":
    main()
