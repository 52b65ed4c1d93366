#!/usr/bin/env bash
# The laptop-scale protocol of issue 14 (docs/results.md) on one GPU, with this library (the NanoGpt sample's sweep)
# and with the authors' implementation (reference_sweep.py), all four sweeps at once, for at most SECONDS, resumable:
# each sweep continues the CSV of the same name in docs/results/ (if there), and the merged CSVs go to OUT.
#
# usage (on the GPU machine, from the repository root, after ../shared/gpu/pack-for-device.sh samples/NanoGpt/NanoGpt.csproj
# and with the authors' model.py in .device/reference/):  bash docs/results/run-gpu-laptop.sh OUT SECONDS
# DEPTH_ORDER: the order of the depth sweep's parameterizations (default completep,mup,sp,alpha=0.5); another order lets a
# CPU sweep of the same CSV work from the other end.
set -uo pipefail
OUT=${1:?usage: run-gpu-laptop.sh OUT SECONDS}
SECONDS_LEFT=${2:?usage: run-gpu-laptop.sh OUT SECONDS}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"
. "$HERE/unpack-device-app.sh"   # WORK, APP and the CUDA libtorch
LRS=$(python3 -c "print(','.join(f'2^{-12 + k / 2:g}' for k in range(17)))")   # 2^-12 .. 2^-4, half octaves
PROTOCOL="--head-dim 16 --block-size 64 --batch-size 16 --base-width 64 --base-depth 2 --steps 300
  --beta1 0.9 --beta2 0.95 --eps 1e-12 --weight-decay 0.1 --grad-clip 1.0 --bias false --init-std 0.02
  --seeds 1,2,3 --lrs $LRS --resume"
OURS="--schedule constant --tied-head true --device cuda"
DEPTH="--widths 64 --depths 2,4,8,16"
WIDTH="--widths 32,64,128,256 --depths 2"

# sweep NAME PROCESSES COMMAND...: runs COMMAND in PROCESSES shards, each continuing its own copy of docs/results/NAME.csv
sweep() {
  local name=$1 processes=$2; shift 2
  for k in $(seq 1 "$processes"); do
    local csv=$WORK/$name-$k.csv
    [ -f "$HERE/$name.csv" ] && cp "$HERE/$name.csv" "$csv"
    timeout "$SECONDS_LEFT" "$@" --shard "$k/$processes" --out "$csv" > "$WORK/$name-$k.log" 2>&1 &
  done
}
sweep lr-sweep-depth-laptop 4 "$APP/NanoGpt" sweep $PROTOCOL $OURS --parallel 2 --parameterizations ${DEPTH_ORDER:-completep,mup,sp,alpha=0.5} $DEPTH
sweep lr-sweep-width-laptop 2 "$APP/NanoGpt" sweep $PROTOCOL $OURS --parallel 2 --parameterizations completep,mup,sp $WIDTH
sweep lr-sweep-depth-reference 4 python3 "$HERE/reference_sweep.py" --model-dir .device/reference $PROTOCOL --parameterizations completep,mup,sp,alpha=0.5 $DEPTH
sweep lr-sweep-width-reference 2 python3 "$HERE/reference_sweep.py" --model-dir .device/reference $PROTOCOL --parameterizations completep,mup,sp $WIDTH
wait

# merge the shards: the header once, each configuration once (the first row of its key), only whole rows
for name in lr-sweep-depth-laptop lr-sweep-width-laptop lr-sweep-depth-reference lr-sweep-width-reference; do
  python3 "$HERE/merge-shards.py" "$OUT/$name.csv" "$WORK"/$name-*.csv
done
tail -n 3 "$WORK"/*.log > "$OUT/sweep-logs-tail.txt"
