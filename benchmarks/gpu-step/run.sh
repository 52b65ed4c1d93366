#!/usr/bin/env bash
# The GPU step benchmark, side by side: the NanoGpt sample's training step (TorchSharp, FlatAdamW, fold-aware
# clipping) and the same model in PyTorch eager (pytorch_step.py: the reference's forward multipliers, fused AdamW,
# clip_grad_norm_), one after the other on the same GPU, each alone on it. Writes, in OUT (default benchmarks/results):
#   gpu-step.csv        shape,width,depth,batch,block,torchsharpMs,pytorchMs,ratio,gpu
#   torchsharp-step.csv, pytorch-step.csv   each side's rows (with forward+backward and optimizer times apart)
#
# usage: benchmarks/gpu-step/run.sh [OUT] [--shapes 128x32,256x8,1024x12] [other bench-step / pytorch_step.py options]
# NANOGPT names the sample's command (default: dotnet run -c Release --project samples/NanoGpt --); on the lent GPU
# machine, which has no .NET: NANOGPT="bash .device/run-on-device.sh NanoGpt" (see ../shared/gpu/README.md).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../results}
[ $# -gt 0 ] && shift
mkdir -p "$out"
nanogpt=${NANOGPT:-dotnet run -c Release --project "$here/../../samples/NanoGpt" --}
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 || true)
gpu=${gpu:-cpu}
$nanogpt bench-step --device auto --runs 1 --out "$out/torchsharp-step.csv" "$@"
python3 "$here/pytorch_step.py" --out "$out/pytorch-step.csv" "$@"
python3 - "$out" "$gpu" <<'PY'
import csv, os, sys
out, gpu = sys.argv[1], sys.argv[2]
def rows(name):
    with open(os.path.join(out, name), newline="") as f:
        return {r["shape"]: r for r in csv.DictReader(f) if r["runs"] == "1"}
ts, pt = rows("torchsharp-step.csv"), rows("pytorch-step.csv")
with open(os.path.join(out, "gpu-step.csv"), "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["shape", "width", "depth", "batch", "block", "torchsharpMs", "pytorchMs", "ratio", "gpu"])
    print(f"{'shape':>10} {'TorchSharp ms':>14} {'PyTorch ms':>11} {'ratio':>6}")
    for shape, t in ts.items():
        if shape not in pt:
            continue
        a, b = float(t["msPerStep"]), float(pt[shape]["msPerStep"])
        w.writerow([shape, t["width"], t["depth"], t["batch"], t["block"], f"{a:.2f}", f"{b:.2f}", f"{a / b:.3f}", gpu])
        print(f"{shape:>10} {a:14.2f} {b:11.2f} {a / b:6.3f}")
print(f"wrote {os.path.join(out, 'gpu-step.csv')}")
PY
