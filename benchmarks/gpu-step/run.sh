#!/usr/bin/env bash
# The GPU step benchmark, three sides alternating: the NanoGpt sample's training step (TorchSharp, FlatAdamW, fold-aware
# clipping), the same model in PyTorch eager (pytorch_step.py: the reference's forward multipliers, fused AdamW,
# clip_grad_norm_), and the authors' own model (reference_step.py: EleutherAI/nanoGPT-mup completep model.py, their
# optimizer groups, fused AdamW, clipping). Each side runs alone on the GPU, in the order A B C A B C A B C (ROUNDS=3),
# so that a drift of the machine hits every side alike. Writes, in OUT (default benchmarks/results):
#   gpu-step.csv         shape,width,depth,batch,block,torchsharpMs,pytorchMs,referenceMs,ratio,referenceRatio,spread,rounds,gpu
#                        (each side's median over the rounds; ratio = torchsharp / pytorch, referenceRatio = torchsharp /
#                        reference; spread = the largest (max - min) / median of the three sides)
#   gpu-step-rounds.csv  side,round,shape,msPerStep,forwardBackwardMs,optimizerMs,gpu: every round of every side, appended as
#                        each side finishes, so that a run cut off (a device call's time limit) keeps its finished rounds
#
# FIRST_ROUND=K continues such a cut-off run: rounds K..ROUNDS are appended to OUT's gpu-step-rounds.csv, and the medians
# are taken over every round in it on the same GPU model (a later call may land on another card: its rows are kept apart).
# On the lent GPU machine, whose OUT starts empty, copy the cut-off run's gpu-step-rounds.csv into OUT first.
#
# usage: benchmarks/gpu-step/run.sh [OUT] [--shapes 128x32,256x8,1024x12] [other options of all three sides]
# REFERENCE_MODEL_DIR: the folder holding the authors' model.py (never committed; see reference_step.py); unset, the
# reference side is skipped and its columns are empty.
# NANOGPT names the sample's command (default: dotnet run -c Release --project samples/NanoGpt --); on the lent GPU
# machine, which has no .NET: NANOGPT="bash .device/run-on-device.sh NanoGpt" (see ../shared/gpu/README.md).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../results}
[ $# -gt 0 ] && shift
mkdir -p "$out"
rounds=${ROUNDS:-3}
first=${FIRST_ROUND:-1}
nanogpt=${NANOGPT:-dotnet run -c Release --project "$here/../../samples/NanoGpt" --}
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 || true)
gpu=${gpu:-cpu}
work=$(mktemp -d)
log=$out/gpu-step-rounds.csv
if [ "$first" -eq 1 ] || [ ! -f "$log" ]; then
  echo "side,round,shape,msPerStep,forwardBackwardMs,optimizerMs,gpu" > "$log"
fi
# record SIDE ROUND FILE: appends one side's rows of one round to the rounds CSV
record() {
  python3 - "$1" "$2" "$3" "$gpu" >> "$log" <<'PY'
import csv, sys
side, r, path, gpu = sys.argv[1:]
with open(path, newline="") as g:
    for row in csv.DictReader(g):
        if row["runs"] == "1":
            print(",".join([side, r, row["shape"], row["msPerStep"], row["forwardBackwardMs"], row["optimizerMs"], gpu]))
PY
}
for r in $(seq "$first" "$rounds"); do
  echo "round $r of $rounds"
  $nanogpt bench-step --device auto --runs 1 --out "$work/torchsharp-$r.csv" "$@" && record torchsharp "$r" "$work/torchsharp-$r.csv"
  python3 "$here/pytorch_step.py" --out "$work/pytorch-$r.csv" "$@" && record pytorch "$r" "$work/pytorch-$r.csv"
  if [ -n "${REFERENCE_MODEL_DIR:-}" ]; then
    if python3 "$here/reference_step.py" --model-dir "$REFERENCE_MODEL_DIR" --out "$work/reference-$r.csv" "$@"; then
      record reference "$r" "$work/reference-$r.csv"
    else
      echo "round $r: the reference side failed (its columns stay empty)"
    fi
  fi
  # the shapes' width, depth, batch and block, for the summary
  cp "$work/torchsharp-$r.csv" "$work/shapes.csv"
done
python3 - "$work/shapes.csv" "$log" "$out" "$gpu" <<'PY'
import csv, os, statistics, sys
shapes_csv, log, out, gpu = sys.argv[1:]
sides = ["torchsharp", "pytorch", "reference"]
times = {}  # (side, shape) -> [ms per round], this GPU model only
rounds = set()
with open(log, newline="") as f:
    for row in csv.DictReader(f):
        if row["gpu"] == gpu:
            times.setdefault((row["side"], row["shape"]), []).append(float(row["msPerStep"]))
            rounds.add(row["round"])
with open(shapes_csv, newline="") as f:
    info = {row["shape"]: row for row in csv.DictReader(f) if row["runs"] == "1"}
def median(side, shape):
    v = times.get((side, shape))
    return statistics.median(v) if v else None
def spread(side, shape):
    v = times.get((side, shape))
    return (max(v) - min(v)) / statistics.median(v) if v and len(v) > 1 else None
fmt = lambda x, d=2: "" if x is None else f"{x:.{d}f}"
with open(os.path.join(out, "gpu-step.csv"), "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["shape", "width", "depth", "batch", "block", "torchsharpMs", "pytorchMs", "referenceMs", "ratio", "referenceRatio", "spread", "rounds", "gpu"])
    print(f"{'shape':>10} {'TorchSharp':>11} {'PyTorch':>8} {'reference':>10} {'ts/pt':>6} {'ts/ref':>7} {'spread':>7}  (median ms per step of {len(rounds)} alternating rounds, {gpu})")
    for shape, row in info.items():
        ts, pt, ref = (median(s, shape) for s in sides)
        spreads = [x for x in (spread(s, shape) for s in sides) if x is not None]
        worst = max(spreads) if spreads else None
        ratio = ts / pt if ts and pt else None
        ref_ratio = ts / ref if ts and ref else None
        n = min(len(times.get((s, shape), [])) for s in sides if (s, shape) in times)
        w.writerow([shape, row["width"], row["depth"], row["batch"], row["block"], fmt(ts), fmt(pt), fmt(ref), fmt(ratio, 3), fmt(ref_ratio, 3), fmt(worst, 3), n, gpu])
        print(f"{shape:>10} {fmt(ts):>11} {fmt(pt):>8} {fmt(ref):>10} {fmt(ratio, 3):>6} {fmt(ref_ratio, 3):>7} {fmt(worst, 3):>7}")
print(f"wrote {os.path.join(out, 'gpu-step.csv')}; every round is in {log}")
PY
rm -rf "$work"
