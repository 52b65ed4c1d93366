"""The laptop-scale protocol (docs/results.md) run with the authors' own implementation: EleutherAI/nanoGPT-mup,
branch completep, model.py, trained the way its train.py trains (their GPT, their configure_optimizers with its
lr_scale groups, a constant LR set per group as lr * lr_scale, clip_grad_norm_, fused AdamW on CUDA). Writes the
sweep CSV schema of `NanoGpt sweep`, so `completep analyze-sweep` and `NanoGpt plot-sweep` read it unchanged.

Their parameterizations, by our names:
  sp         mup_enabled False (their SP: init std 0.02, output projections 0.02 / sqrt(2 L), attention 1/sqrt(d_head))
  mup        mup_enabled True, depth_alpha_enabled False
  completep  mup_enabled True, depth_alpha_enabled True, depth_alpha_exp 1
  alpha=A    mup_enabled True, depth_alpha_enabled True, depth_alpha_exp A
Width multiplier width / base width, depth multiplier depth / base depth. float32 without autocast (the protocol's
precision; their train.py would use bfloat16 autocast on a GPU). Batches: window starts drawn uniformly from the
90% training split with a generator seeded by the run's seed; the final losses average --eval-batches batches of
the training split (seed + 1) and the validation split (seed + 2), as the sample's sweep does. A run whose training
loss is not finite is written diverged=true with empty losses.

model.py is not in this repository: fetch it into a git-ignored folder (see benchmarks/gpu-step/reference_step.py).

usage: python3 reference_sweep.py --model-dir DIR --parameterizations completep,mup --widths 64 --depths 2,4,8,16
         --lrs 2^-12,...,2^-4 --seeds 1,2,3 --out lr-sweep-depth-reference.csv [--resume] [--shard K/N] [protocol options]
"""
import argparse
import contextlib
import io
import math
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "benchmarks", "gpu-step"))
from reference_step import load_reference  # noqa: E402  (the one loader of the authors' model.py)

KEY = ("parameterization,alpha,width,depth,baseWidth,baseDepth,headDim,lr,seed,steps,batch,block,schedule,warmup,"
       "beta1,beta2,eps,weightDecay,gradClip,bias,tiedHead")
HEADER = KEY + ",trainLoss,valLoss,diverged,seconds,device"


def number(text):
    """A float, or a power of two written 2^x."""
    return 2.0 ** float(text[2:]) if text.startswith("2^") else float(text)


def boolean(text):
    if text not in ("true", "false"):
        raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
    return text == "true"


def arguments():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model-dir", required=True, help="the folder holding the authors' model.py")
    p.add_argument("--parameterizations", default="completep,mup")
    p.add_argument("--widths", default="64")
    p.add_argument("--depths", default="2,4,8,16")
    p.add_argument("--lrs", default=",".join(f"2^{-12 + k / 2:g}" for k in range(17)))
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--base-width", type=int, default=64)
    p.add_argument("--base-depth", type=int, default=2)
    p.add_argument("--head-dim", type=int, default=16)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--block-size", type=int, default=64)
    p.add_argument("--eval-batches", type=int, default=20)
    p.add_argument("--beta1", type=float, default=0.9)
    p.add_argument("--beta2", type=float, default=0.95)
    p.add_argument("--eps", type=float, default=1e-12)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--grad-clip", type=float, default=1.0)
    p.add_argument("--bias", type=boolean, default=False)
    p.add_argument("--init-std", type=float, default=0.02)
    p.add_argument("--data", default=os.path.join(here, "..", "..", "samples", "NanoGpt", "Data", "tinyshakespeare.txt"))
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--threads", type=int, default=0, help="CPU threads of torch (torch.set_num_threads; 0 keeps torch's default)")
    p.add_argument("--resume", action="store_true", help="append to an existing CSV and skip the runs already in it")
    p.add_argument("--shard", default="1/1", help="K/N: run only every N-th run, from the K-th")
    p.add_argument("--out", required=True)
    return p.parse_args()


def alpha_of(name):
    return {"sp": None, "mup": None, "completep": 1.0}.get(name, float(name[6:]) if name.startswith("alpha=") else None)


def g(x):
    """A float as .NET's "R" format writes it in the sample's CSV: 1, 0.9, 1E-12, 0.00034526698300124393."""
    x = float(x)
    return str(int(x)) if x == int(x) and abs(x) < 1e15 else repr(x).replace("e", "E")


def key(a, name, width, depth, lr, seed):
    alpha = alpha_of(name)
    return ",".join([name, "" if alpha is None else g(alpha), str(width), str(depth), str(a.base_width), str(a.base_depth),
                     str(a.head_dim), g(lr), str(seed), str(a.steps), str(a.batch_size), str(a.block_size), "constant", "0",
                     g(a.beta1), g(a.beta2), g(a.eps), g(a.weight_decay), g(a.grad_clip), "true" if a.bias else "false", "true"])


def train_one(reference, a, corpus, name, width, depth, lr, seed, device):
    """Trains one run; returns (train loss, val loss), or None when the training loss is not finite."""
    train, val = corpus
    alpha = alpha_of(name)
    config = reference.GPTConfig(
        block_size=a.block_size, vocab_size=65, n_layer=depth, n_head=width // a.head_dim, n_embd=width, dropout=0.0,
        bias=a.bias, init_std=a.init_std, mup_enabled=name != "sp", mup_width_multiplier=width / a.base_width,
        depth_alpha_enabled=alpha is not None, depth_multiplier=depth / a.base_depth, depth_alpha_exp=alpha or 1.0)
    torch.manual_seed(seed)
    with contextlib.redirect_stdout(io.StringIO()):
        model = reference.GPT(config).to(device)
        optimizer = model.configure_optimizers(a.weight_decay, lr, (a.beta1, a.beta2), a.eps, device.type)
    for group in optimizer.param_groups:
        group["lr"] = lr * group.get("lr_scale", 1.0)
    offsets = torch.arange(a.block_size, device=device)

    def starts(split, count, generator_seed):
        gen = torch.Generator().manual_seed(generator_seed)
        return torch.randint(len(split) - a.block_size - 1, (count, a.batch_size), generator=gen).to(device)

    def window(split, s):
        positions = s.unsqueeze(1) + offsets
        return split[positions], split[positions + 1]

    train_starts = starts(train, a.steps, seed)
    model.train()
    losses = []
    for step in range(a.steps):
        x, y = window(train, train_starts[step])
        _, loss = model(x, y)
        loss.backward()
        if a.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), a.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.detach())
        if (step + 1) % 50 == 0 and not torch.isfinite(torch.stack(losses)).all():
            return None
    if not torch.isfinite(torch.stack(losses)).all():
        return None

    def evaluate(split, generator_seed):
        model.eval()
        with torch.no_grad():
            s = starts(split, a.eval_batches, generator_seed)
            total = sum(model(*window(split, s[i]))[1] for i in range(a.eval_batches))
        model.train()
        return float(total) / a.eval_batches

    result = evaluate(train, seed + 1), evaluate(val, seed + 2)
    return result if all(math.isfinite(v) for v in result) else None


def main():
    a = arguments()
    device = torch.device(a.device)
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    reference = load_reference(a.model_dir)
    with open(a.data, encoding="utf-8") as f:
        text = f.read()
    vocab = sorted(set(text))
    index = {c: i for i, c in enumerate(vocab)}
    ids = torch.tensor([index[c] for c in text], dtype=torch.long)
    n = int(0.9 * len(ids))
    corpus = ids[:n].to(device), ids[n:].to(device)
    names = [s.strip() for s in a.parameterizations.split(",")]
    runs = [(name, seed, depth, width, number(lr)) for name in names for seed in (int(s) for s in a.seeds.split(","))
            for depth in (int(d) for d in a.depths.split(",")) for width in (int(w) for w in a.widths.split(","))
            for lr in a.lrs.split(",")]
    k, shards = (int(v) for v in a.shard.split("/"))
    runs = [r for i, r in enumerate(runs) if i % shards == k - 1]
    done = set()
    if a.resume and os.path.exists(a.out):
        with open(a.out, encoding="utf-8") as f:
            columns = HEADER.count(",") + 1
            done = {",".join(line.rstrip("\n").split(",")[:KEY.count(",") + 1]) for line in f.readlines()[1:] if line.count(",") + 1 == columns}
    todo = [r for r in runs if key(a, r[0], r[3], r[2], r[4], r[1]) not in done]
    print(f"reference sweep: {len(runs)} runs (shard {a.shard}), {len(runs) - len(todo)} already in the CSV, {len(todo)} to run on {device}", flush=True)
    fresh = not (a.resume and os.path.exists(a.out))
    with open(a.out, "a" if not fresh else "w", encoding="utf-8") as out:
        if fresh:
            out.write(HEADER + "\n")
        clock = time.perf_counter()
        for i, (name, seed, depth, width, lr) in enumerate(todo, 1):
            start = time.perf_counter()
            losses = train_one(reference, a, corpus, name, width, depth, lr, seed, device)
            seconds = time.perf_counter() - start
            out.write(f"{key(a, name, width, depth, lr, seed)},{',' if losses is None else g(losses[0]) + ',' + g(losses[1])},{'true' if losses is None else 'false'},{seconds:.1f},{device.type}\n")
            out.flush()
            left = (time.perf_counter() - clock) / i * (len(todo) - i)
            shown = "diverged" if losses is None else f"train {losses[0]:.4f} val {losses[1]:.4f}"
            print(f"  [{i}/{len(todo)}] {name} seed {seed} width {width} depth {depth} lr {lr:.3g}: {shown} ({seconds:.1f} s; about {left:.0f} s left)", flush=True)


if __name__ == "__main__":
    sys.exit(main())
