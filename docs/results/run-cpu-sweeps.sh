#!/usr/bin/env bash
# The laptop-scale protocol of issue 14 (docs/results.md): the depth sweep, then the width sweep, one process at a
# time, one torch thread. Resumable: run it again and it skips the runs already in the CSVs.
# Usage: run-cpu-sweeps.sh [NanoGpt binary] (default: dotnet publish samples/NanoGpt -c Release -o /work/sweep-bin).
set -euo pipefail
BIN=${1:-/work/sweep-bin/NanoGpt}
OUT=$(cd "$(dirname "$0")" && pwd)
LRS=$(python3 -c "print(','.join(f'2^{-12 + k / 2:g}' for k in range(17)))")   # 2^-12 .. 2^-4, half octaves
PROTOCOL="--head-dim 16 --block-size 64 --batch-size 16 --base-width 64 --base-depth 2 --steps 300 --schedule constant
  --beta1 0.9 --beta2 0.95 --eps 1e-12 --weight-decay 0.1 --grad-clip 1.0 --bias false --tied-head true --init-std 0.02
  --seeds 1,2,3 --lrs $LRS --device cpu --threads 1 --resume"
"$BIN" sweep $PROTOCOL --parameterizations completep,mup,sp,alpha=0.5 --widths 64 --depths 2,4,8,16 --out "$OUT/lr-sweep-depth-cpu.csv"
"$BIN" sweep $PROTOCOL --parameterizations completep,mup,sp --widths 32,64,128,256 --depths 2 --out "$OUT/lr-sweep-width-cpu.csv"
