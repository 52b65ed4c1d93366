"""The third side of the GPU step benchmark: the authors' own model (EleutherAI/nanoGPT-mup, branch completep,
model.py), trained the way their train.py trains it, timed exactly as pytorch_step.py times its model.

The step: their GPT under CompleteP (mup_enabled, depth_alpha_enabled, depth_alpha_exp 1, width multiplier
width / base width, depth multiplier depth / base depth), biases on, no dropout; their configure_optimizers (five
AdamW groups with lr_scale, fused AdamW on CUDA), each group's lr set to lr * lr_scale as train.py does; their forward
returns (logits, loss); clip_grad_norm_(1.0). float32 without autocast, as the other two sides (train.py would use
bfloat16 autocast; the benchmark compares implementations, not precisions).

model.py is not in this repository (its licence is the authors'): fetch it into a git-ignored folder and point
--model-dir at it, for example
    git -C nanoGPT-mup show completep:model.py > .device/reference/model.py

usage: python3 reference_step.py --model-dir .device/reference --shapes 128x32,256x8,1024x12 --out reference-step.csv
Writes bench-step's CSV header: shape,width,depth,batch,block,runs,msPerStep,stepsPerSecond,forwardBackwardMs,optimizerMs,device
"""
import contextlib
import importlib.util
import io
import os

import pytorch_step


def load_reference(model_dir):
    """Imports model.py from model_dir as a module."""
    spec = importlib.util.spec_from_file_location("reference_model", os.path.join(model_dir, "model.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def builder(reference):
    def build(args, width, depth, device):
        config = reference.GPTConfig(
            block_size=args.block_size, vocab_size=65, n_layer=depth, n_head=width // args.head_dim, n_embd=width,
            dropout=0.0, bias=True, init_std=0.02, mup_enabled=True, mup_width_multiplier=width / args.base_width,
            depth_alpha_enabled=True, depth_multiplier=depth / args.base_depth, depth_alpha_exp=1.0)
        with contextlib.redirect_stdout(io.StringIO()):  # it prints its parameter count and groups
            model = reference.GPT(config).to(device)
            optimizer = model.configure_optimizers(0.1, 3e-3, (0.9, 0.95), 1e-8, device.type)
        for group in optimizer.param_groups:
            group["lr"] = 3e-3 * group.get("lr_scale", 1.0)
        return model, optimizer, lambda x, y: model(x, y)[1]

    return build


def main():
    parser = pytorch_step.arguments(__doc__)
    parser.add_argument("--model-dir", required=True, help="the folder holding the authors' model.py")
    args = parser.parse_args()
    pytorch_step.run(args, builder(load_reference(args.model_dir)), "reference (EleutherAI/nanoGPT-mup completep)")


if __name__ == "__main__":
    main()
