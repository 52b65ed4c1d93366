#!/usr/bin/env bash
# Issue 16's laptop-scale evidence for the batch-size and training-length rules (docs/results.md, "Batch size and
# training length"): the laptop protocol at width 64, depth 4, CompleteP, 3 seeds, an LR grid around the optimum; the
# base hyperparameters belong to the base run of 16 x 64 tokens for 300 steps (1,024 tokens per step, 307,200 tokens).
#   batch:  8, 16, 32, 64 sequences at equal total tokens (600, 300, 150, 75 steps), with the square-root rule
#           (--base-tokens-per-step/--base-tokens) and without it (the same CSV, empty base columns: the base LR unscaled)
#   length: 150, 300, 600, 1200 steps at 16 sequences, with the timescale rule and without it (the base weight decay)
# Each arm appends to its CSV with --resume, so the script resumes where it stopped. The base run appears in both arms:
# the rule at kappa = 1 and S = S_base changes nothing, so those rows must equal the rule-free ones (a check).
# usage: run-transfer-sweeps.sh [batch|length|both] [NanoGpt binary] (default both, /work/sweep-bin/NanoGpt)
set -euo pipefail
WHICH=${1:-both}
BIN=${2:-/work/sweep-bin/NanoGpt}
OUT=$(cd "$(dirname "$0")" && pwd)
LRS=$(python3 -c "print(','.join(f'2^{-9.5 + k / 2:g}' for k in range(9)))")   # 2^-9.5 .. 2^-5.5, half octaves
PROTOCOL="--parameterizations completep --widths 64 --depths 4 --head-dim 16 --block-size 64 --base-width 64 --base-depth 2
  --schedule constant --beta1 0.9 --beta2 0.95 --eps 1e-12 --weight-decay 0.1 --grad-clip 1.0 --bias false --tied-head true
  --init-std 0.02 --seeds 1,2,3 --lrs $LRS --device cpu --threads 1 --resume"
BASE="--base-tokens-per-step 1024 --base-tokens 307200"
if [ "$WHICH" = batch ] || [ "$WHICH" = both ]; then
  for arm in rule none; do
    for batch in 16 8 32 64; do
      "$BIN" sweep $PROTOCOL --batch-size $batch --steps $((4800 / batch)) $([ $arm = rule ] && echo "$BASE") --out "$OUT/batch-transfer.csv"
    done
  done
fi
if [ "$WHICH" = length ] || [ "$WHICH" = both ]; then
  for arm in rule none; do
    for steps in 300 150 600 1200; do
      "$BIN" sweep $PROTOCOL --batch-size 16 --steps $steps $([ $arm = rule ] && echo "$BASE") --out "$OUT/length-transfer.csv"
    done
  done
fi
