"""Regenerates the machine-written parts of docs/results.md from the committed sweep CSVs: the analyze-sweep tables
(between <!-- depth-table --> / <!-- width-table --> markers and the reference implementation's tables) and the
status counts (<!-- status-counts -->). The prose (findings, comparisons) is written by hand from these tables.

usage (from the repository root):  python3 docs/results/refresh-page.py
It runs `dotnet run --project src/CompleteP.Parameterization.Cli -- analyze-sweep CSV --format markdown` for each CSV
that exists; a table whose CSV is missing is left as it is.
"""
import csv
import os
import re
import subprocess
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAGE = os.path.join(ROOT, "docs", "results.md")
TABLES = {  # marker -> CSV
    "depth-table": "docs/results/lr-sweep-depth-cpu.csv",
    "width-table": "docs/results/lr-sweep-width-cpu.csv",
    "reference-depth-table": "docs/results/lr-sweep-depth-reference.csv",
    "reference-width-table": "docs/results/lr-sweep-width-reference.csv",
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


def splice(page, marker, text):
    pattern = re.compile(f"(<!-- {re.escape(marker)} -->)(.*?)(<!-- /{re.escape(marker)} -->)", re.S)
    if not pattern.search(page):
        return page
    return pattern.sub(lambda m: m.group(1) + "\n" + text + "\n" + m.group(3), page)


def main():
    with open(PAGE, encoding="utf-8") as f:
        page = f.read()
    for marker, path in TABLES.items():
        if os.path.exists(os.path.join(ROOT, path)):
            page = splice(page, marker, analyze(path))
            print(f"{marker}: from {path}")
    status = [f"{'depth' if 'depth' in p else 'width'} sweep: {counts(p)}" for p in PLANNED if os.path.exists(os.path.join(ROOT, p))]
    page = re.sub(r"(<!-- status-counts -->)(.*?)(<!-- /status-counts -->)", lambda m: m.group(1) + ". ".join(status) + "." + m.group(3), page, flags=re.S)
    with open(PAGE, "w", encoding="utf-8") as f:
        f.write(page)
    print("status: " + ". ".join(status))


if __name__ == "__main__":
    main()
