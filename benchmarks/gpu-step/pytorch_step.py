"""The PyTorch side of the GPU step benchmark: the nanoGPT model under CompleteP as the authors' reference
(EleutherAI/nanoGPT-mup, branch completep) writes it, trained the way its train.py trains it, timed the way
`NanoGpt bench-step` times the TorchSharp sample.

What the step does, on both sides: gather a batch from the corpus on the GPU (window starts drawn up front), forward,
cross-entropy, backward, global gradient-norm clipping at 1.0, one AdamW step. Here the multipliers are in the
forward pass, as in the reference (x + m_L^-alpha * branch(ln(x)), the embedding output times alpha_in, the final
hidden state times alpha_out / m_N before the tied lm_head, SDPA with scale 1/d_head), the optimizer is
torch.optim.AdamW(fused=True) over the reference's parameter groups, and clipping is clip_grad_norm_ (foreach).
float32, no TF32 (PyTorch's default), no torch.compile: eager mode.

usage: python3 pytorch_step.py --shapes 128x32,256x8,1024x12 --out pytorch-step.csv [--device cuda]
Writes the CSV header of bench-step: shape,width,depth,batch,block,runs,msPerStep,stepsPerSecond,forwardBackwardMs,optimizerMs,device
"""
import argparse
import math
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

HEADER = "shape,width,depth,batch,block,runs,msPerStep,stepsPerSecond,forwardBackwardMs,optimizerMs,device"


class Norm(nn.Module):
    """LayerNorm with a gain and a bias, as nanoGPT's."""

    def __init__(self, n):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.bias = nn.Parameter(torch.zeros(n))

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class Attention(nn.Module):
    def __init__(self, width, head_dim):
        super().__init__()
        self.c_attn = nn.Linear(width, 3 * width)
        self.c_proj = nn.Linear(width, width)
        self.width, self.heads, self.head_dim = width, width // head_dim, head_dim

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.c_attn(x).split(self.width, dim=2)
        q = q.view(b, t, self.heads, self.head_dim).transpose(1, 2)  # (B, heads, T, d_head)
        k = k.view(b, t, self.heads, self.head_dim).transpose(1, 2)
        v = v.view(b, t, self.heads, self.head_dim).transpose(1, 2)
        if hasattr(F, "scaled_dot_product_attention"):
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=1.0 / self.head_dim)
        else:  # PyTorch < 2.0 (only for trying the script on an old CPU build)
            att = (q @ k.transpose(-2, -1)) / self.head_dim
            mask = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
            y = att.masked_fill(~mask, float("-inf")).softmax(-1) @ v
        return self.c_proj(y.transpose(1, 2).contiguous().view(b, t, c))


class Mlp(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.c_fc = nn.Linear(width, 4 * width)
        self.c_proj = nn.Linear(4 * width, width)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, width, head_dim, residual):
        super().__init__()
        self.ln_1, self.attn = Norm(width), Attention(width, head_dim)
        self.ln_2, self.mlp = Norm(width), Mlp(width)
        self.residual = residual  # m_L^-alpha, applied in the forward as the reference does

    def forward(self, x):
        x = x + self.residual * self.attn(self.ln_1(x))
        return x + self.residual * self.mlp(self.ln_2(x))


class Gpt(nn.Module):
    def __init__(self, vocab, block, width, depth, head_dim, base_width, base_depth, std=0.02):
        super().__init__()
        self.m_n, m_l = width / base_width, depth / base_depth
        self.wte, self.wpe = nn.Embedding(vocab, width), nn.Embedding(block, width)
        self.h = nn.ModuleList(Block(width, head_dim, 1.0 / m_l) for _ in range(depth))
        self.ln_f = Norm(width)
        self.lm_head = nn.Linear(width, vocab, bias=False)
        self.wte.weight = self.lm_head.weight  # tied, as nanoGPT
        self.alpha_in, self.alpha_out = 1.0, 1.0
        for name, p in self.named_parameters():
            if p.dim() == 2:
                hidden = name.startswith("h.")
                nn.init.normal_(p, 0.0, std / math.sqrt(self.m_n) if hidden else std)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def forward(self, idx, targets):
        t = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(t, device=idx.device))
        x = x * self.alpha_in
        for block in self.h:
            x = block(x)
        x = self.ln_f(x) * (self.alpha_out / self.m_n)
        logits = self.lm_head(x)
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))

    def groups(self, lr, wd, eps, m_l):
        """The reference's AdamW groups under CompleteP (alpha = 1): hidden weights eta/m_N, decay lambda*m_N, eps/m_N/m_L."""
        hidden_w = [p for n, p in self.named_parameters() if n.startswith("h.") and p.dim() == 2]
        hidden_b = [p for n, p in self.named_parameters() if n.startswith("h.") and p.dim() == 1 and ".ln_" not in n]
        hidden_ln = [p for n, p in self.named_parameters() if n.startswith("h.") and ".ln_" in n]
        embeddings = [self.wte.weight, self.wpe.weight]
        final = [self.ln_f.weight, self.ln_f.bias]
        hidden_eps = eps / self.m_n / m_l
        return [
            {"params": embeddings, "lr": lr, "weight_decay": wd, "eps": eps},
            {"params": hidden_ln, "lr": lr, "weight_decay": 0.0, "eps": hidden_eps},
            {"params": hidden_w, "lr": lr / self.m_n, "weight_decay": wd * self.m_n, "eps": hidden_eps},
            {"params": hidden_b, "lr": lr, "weight_decay": 0.0, "eps": hidden_eps},
            {"params": final, "lr": lr, "weight_decay": 0.0, "eps": eps},
        ]


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def build_this_model(args, width, depth, device):
    """This script's model and optimizer: (model, optimizer, loss(x, y))."""
    model = Gpt(65, args.block_size, width, depth, args.head_dim, args.base_width, args.base_depth).to(device)
    m_l = depth / args.base_depth
    fused = {"fused": True} if device.type == "cuda" else {}
    optimizer = torch.optim.AdamW(model.groups(3e-3, 0.1, 1e-8, m_l), betas=(0.9, 0.95), **fused)
    return model, optimizer, model


def measure(args, corpus, width, depth, device, build=build_this_model):
    """Times the training step of the model and optimizer that build(args, width, depth, device) returns."""
    torch.manual_seed(1337)
    model, optimizer, loss_of = build(args, width, depth, device)
    parameters = [p for p in model.parameters()]
    total = args.warmup + args.steps
    g = torch.Generator().manual_seed(1337)
    starts = torch.randint(len(corpus) - args.block_size, (total, args.batch_size), generator=g).to(device)
    data = corpus.to(device)
    offsets = torch.arange(args.block_size, device=device)

    def batch(i):
        positions = starts[i].unsqueeze(1) + offsets  # (B, T)
        return data[positions], data[positions + 1]

    def step(i):
        x, y = batch(i)
        optimizer.zero_grad(set_to_none=True)
        loss = loss_of(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        return loss.detach()

    model.train()
    for i in range(args.warmup):
        step(i)
    sync(device)
    clock = time.perf_counter()
    for i in range(args.warmup, total):
        step(i)
    sync(device)
    seconds = time.perf_counter() - clock

    forward_backward = optimizer_ms = 0.0
    for k in range(args.part_reps):
        x, y = batch(k % total)
        sync(device)
        clock = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss_of(x, y).backward()
        sync(device)
        forward_backward += time.perf_counter() - clock
        clock = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        sync(device)
        optimizer_ms += time.perf_counter() - clock
    reps = max(args.part_reps, 1)
    del model, optimizer, parameters
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return 1000 * seconds / args.steps, args.steps / seconds, 1000 * forward_backward / reps, 1000 * optimizer_ms / reps


def arguments(doc):
    """The options both PyTorch sides take (this script and reference_step.py)."""
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--shapes", default="128x32,256x8,1024x12")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--block-size", type=int, default=256)
    parser.add_argument("--head-dim", type=int, default=64)
    parser.add_argument("--base-width", type=int, default=128)
    parser.add_argument("--base-depth", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--part-reps", type=int, default=50)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--corpus", default=os.path.join(here, "..", "..", "samples", "NanoGpt", "Data", "tinyshakespeare.txt"))
    parser.add_argument("--out", required=True)
    return parser


def main():
    run(arguments(__doc__).parse_args(), build_this_model, "pytorch")


def run(args, build, side):
    """Times every shape of args.shapes with the model build returns and writes args.out."""
    device = torch.device(args.device)
    with open(args.corpus, encoding="utf-8") as f:
        text = f.read()
    vocab = sorted(set(text))
    index = {c: i for i, c in enumerate(vocab)}
    corpus = torch.tensor([index[c] for c in text[: int(0.9 * len(text))]], dtype=torch.long)
    print(f"{side}: pytorch {torch.__version__} on {device} ({torch.cuda.get_device_name() if device.type == 'cuda' else 'cpu'}): "
          f"batch {args.batch_size} x {args.block_size}, {args.warmup} warm-up + {args.steps} timed steps")
    rows = [HEADER]
    for shape in args.shapes.split(","):
        width, depth = (int(v) for v in shape.split("x"))
        ms, per_second, fb, opt = measure(args, corpus, width, depth, device, build)
        rows.append(f"{width}x{depth},{width},{depth},{args.batch_size},{args.block_size},1,{ms:.3f},{per_second:.2f},{fb:.3f},{opt:.3f},{device.type}")
        print(f"  {width}x{depth}: {ms:.2f} ms per step (forward+backward {fb:.2f} ms, clip+AdamW {opt:.2f} ms)", flush=True)
        with open(args.out, "w", encoding="utf-8") as f:
            f.write("\n".join(rows) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
