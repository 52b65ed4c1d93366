#!/usr/bin/env bash
# A small per-module search at the base shape (issue 16, item 3; docs/results.md, "A per-module search"): the laptop
# protocol at width 64, depth 2, CompleteP, 3 seeds, LRs 2^-9 .. 2^-7, and five settings of the per-module base
# hyperparameters: none, the embedding's LR x 1/4 and x 4, the hidden weights' init std x 1/2 and x 2; then no factors and
# the embedding's LR x 4 again at depth 8, to see whether the factor transfers. Every run appends
# to one CSV (its hp column keeps the settings apart) with --resume, so the script resumes where it stopped.
# Then the per-branch residual multipliers: the attention's and the MLP's x 1/2 and x 2 at the base shape (the attention's
# x 2 wants lower LRs: three more), and the best of them again at depth 8. Last, width transfer: no factors and the
# embedding's LR x 4 at widths 128 and 256 (depth 2). And the forward multipliers alpha_out and alpha_attn x 1/2 and x 2
# at the base shape (the hp column says alpha_out=2). Last, the embedding's LR re-tuned at depth 8: x 2 and x 8 at depths 2 and 8.
# usage: run-hp-search.sh [NanoGpt binary] (default /work/sweep-bin4/NanoGpt, a Release publish of samples/NanoGpt)
set -euo pipefail
BIN=${1:-/work/sweep-bin5/NanoGpt}
OUT=$(cd "$(dirname "$0")" && pwd)/hp-search.csv
PROTOCOL="--parameterizations completep --widths 64 --depths 2 --head-dim 16 --block-size 64 --batch-size 16 --steps 300
  --base-width 64 --base-depth 2 --schedule constant --beta1 0.9 --beta2 0.95 --eps 1e-12 --weight-decay 0.1 --grad-clip 1.0
  --bias false --tied-head true --init-std 0.02 --seeds 1,2,3 --lrs 2^-9,2^-8.5,2^-8,2^-7.5,2^-7 --device cpu --threads 1 --resume"
# the runs with per-module factors first: they create the CSV with its hp column, where the rows without --hp write it empty
for hp in embedding.lr=0.25 embedding.lr=4 hidden-weight.init=0.5 hidden-weight.init=2; do
  "$BIN" sweep $PROTOCOL --hp "$hp" --out "$OUT"
done
"$BIN" sweep $PROTOCOL --out "$OUT"
# does the best factor transfer? the same two settings at depth 8 (the base shape's runs above are skipped by --resume)
"$BIN" sweep ${PROTOCOL/--depths 2/--depths 2,8} --hp embedding.lr=4 --out "$OUT"
"$BIN" sweep ${PROTOCOL/--depths 2/--depths 2,8} --out "$OUT"
# per-branch residual multipliers (--hp PATTERN.res=F) at the base shape, then the best at depth 8
for hp in "*.attn.res=0.5" "*.attn.res=2" "*.mlp.res=0.5" "*.mlp.res=2"; do
  "$BIN" sweep $PROTOCOL --hp "$hp" --out "$OUT"
done
"$BIN" sweep ${PROTOCOL/--lrs 2^-9,/--lrs 2^-10.5,2^-10,2^-9.5,2^-9,} --hp "*.attn.res=2" --out "$OUT"
"$BIN" sweep ${PROTOCOL/--depths 2/--depths 2,8} --hp "*.attn.res=0.5" --out "$OUT"
# width transfer of the embedding's factor (the base shape's runs are skipped by --resume)
"$BIN" sweep ${PROTOCOL/--widths 64/--widths 64,128,256} --hp embedding.lr=4 --out "$OUT"
"$BIN" sweep ${PROTOCOL/--widths 64/--widths 64,128,256} --out "$OUT"
# the forward multipliers at the base shape
for alpha in "--alpha-out 0.5" "--alpha-out 2" "--alpha-attn 0.5" "--alpha-attn 2"; do
  "$BIN" sweep $PROTOCOL $alpha --out "$OUT"
done
# is 4 still the embedding's best factor at depth 8?
for hp in embedding.lr=2 embedding.lr=8; do
  "$BIN" sweep ${PROTOCOL/--depths 2/--depths 2,8} --hp "$hp" --out "$OUT"
done
