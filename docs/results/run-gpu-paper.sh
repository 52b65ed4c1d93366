#!/usr/bin/env bash
# Issue 17's paper-scale protocol on one GPU (docs/results.md, "At the paper's scale"): width 128, head dim 32, base shape
# (128, 2), 16 x 256 tokens, 600 steps, constant LR, AdamW (0.9, 0.95), epsilon 1e-12, weight decay 0.1, clipping 1.0, no
# biases, tied head, 3 seeds, LR in half octaves. For at most SECONDS, resumable: each sweep continues
# docs/results/NAME.csv (if there), in PROCESSES shards, and the merged CSV goes to OUT.
#
# usage (on the GPU machine, from the repository root, after ../shared/gpu/pack-for-device.sh samples/NanoGpt/NanoGpt.csproj):
#   bash docs/results/run-gpu-paper.sh width|depth OUT SECONDS [PROCESSES]
#   width: depth 4, widths 128, 256, 512, 1024; SP, muP, CompleteP     -> lr-sweep-width.csv
#   depth: width 128, depths 2 .. 64; SP, muP, alpha = 0.5, CompleteP  -> lr-sweep-depth.csv
# float32, as the laptop protocol. TF32=1 lets the matrix products use TF32 tensor cores (the sweep's --tf32; several
# times faster at width 512-1024) and writes NAME-tf32.csv instead, so that the two precisions never share a CSV.
# PARAMS and LRS override the parameterizations and the LR list.
set -uo pipefail
WHICH=${1:?usage: run-gpu-paper.sh width|depth OUT SECONDS [PROCESSES]}
OUT=${2:?usage: run-gpu-paper.sh width|depth OUT SECONDS [PROCESSES]}
SECONDS_LEFT=${3:?usage: run-gpu-paper.sh width|depth OUT SECONDS [PROCESSES]}
PROCESSES=${4:-8}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"
. "$HERE/unpack-device-app.sh"   # WORK, APP and the CUDA libtorch
lrs() { python3 -c "print(','.join(f'2^{$1 + k / 2:g}' for k in range(int(($2 - $1) * 2) + 1)))"; }
PROTOCOL="--head-dim 32 --block-size 256 --batch-size 16 --base-width 128 --base-depth 2 --steps 600
  --beta1 0.9 --beta2 0.95 --eps 1e-12 --weight-decay 0.1 --grad-clip 1.0 --bias false --init-std 0.02
  --schedule constant --tied-head true --device cuda --seeds 1,2,3 --resume"
case $WHICH in
  width) NAME=lr-sweep-width; SHAPES="--widths 1024,512,256,128 --depths 4"; PARAMS=${PARAMS:-completep,mup,sp}; LRS=${LRS:-$(lrs -13 -5)} ;;
  depth) NAME=lr-sweep-depth; SHAPES="--widths 128 --depths 64,32,16,8,4,2"; PARAMS=${PARAMS:-completep,mup,sp,alpha=0.5}; LRS=${LRS:-$(lrs -12 -5)} ;;
  *) echo "run-gpu-paper.sh: the first argument must be width or depth, not '$WHICH'" >&2; exit 2 ;;
esac
PRECISION=""
if [ "${TF32:-0}" = 1 ]; then NAME=$NAME-tf32; PRECISION=--tf32; fi
for k in $(seq 1 "$PROCESSES"); do
  csv=$WORK/$NAME-$k.csv
  [ -f "$HERE/$NAME.csv" ] && cp "$HERE/$NAME.csv" "$csv"
  timeout "$SECONDS_LEFT" "$APP/NanoGpt" sweep $PROTOCOL $PRECISION --parameterizations "$PARAMS" $SHAPES --lrs "$LRS" \
    --shard "$k/$PROCESSES" --out "$csv" > "$WORK/$NAME-$k.log" 2>&1 &
done
wait
# merge the shards: the header once, each configuration once (the first row of its key), only whole rows
python3 "$HERE/merge-shards.py" "$OUT/$NAME.csv" "$WORK"/$NAME-*.csv
tail -n 3 "$WORK"/*.log > "$OUT/$NAME-logs-tail.txt"
nvidia-smi --query-gpu=name --format=csv,noheader > "$OUT/gpu.txt" 2>/dev/null || true
