"""The training loop every tools/torch trainer shares (train.py: the digits; train_text.py: the
captioned digits): the processes (torchrun: data-parallel over DistributedDataParallel, rank 0 logs
and writes the checkpoint) and the device, the model, its EMA and AdamW, resuming a checkpoint,
Algorithm 1 of Ho et al. 2020 on L_simple (or its Min-SNR-γ weighting) with the LR schedule, a progress line every 50 steps,
a checkpoint every --ckpt-every steps and a stop on the clock (--stop-after-minutes).

A trainer gives what differs: its flags, how to build its model, how to draw a batch (clean images
and what they are conditioned on, with the condition dropped at random for classifier-free
guidance), and where a new run starts from.
"""
import math
import os
import sys
import time

import numpy as np
import torch


def add_args(p, *, out, steps, ema, ckpt_every):
    """The flags every trainer has; `out`, `steps`, `ema` and `ckpt_every` are its defaults."""
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"], help="auto: bf16 autocast on a CUDA GPU that has it, else fp32")
    p.add_argument("--out", default=out, help="this run's checkpoint (git-ignored); resumed if it exists")
    p.add_argument("--steps", type=int, default=steps, help="total optimiser steps (the LR schedule spans them)")
    p.add_argument("--batch", type=int, default=64, help="images per step per process")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--min-lr", type=float, default=5e-5)
    p.add_argument("--warmup", type=int, default=500)
    p.add_argument("--ema", type=float, default=ema)
    p.add_argument("--reset-ema", type=int, default=0,
                   help="1: on resuming, start the EMA again from the weights as they are (a short run's EMA still holds much of the random start: 0.9995^3000 = 22 %%)")
    p.add_argument("--schedule", choices=["linear", "cosine"], default="linear")
    p.add_argument("--min-snr", type=float, default=0,
                   help="γ of the Min-SNR-γ loss weights (Hang et al. 2023; the page trains new models with 5); 0: L_simple")
    p.add_argument("--T", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--ckpt-every", type=int, default=ckpt_every)
    p.add_argument("--stop-after-minutes", type=float, default=0, help="checkpoint and exit after this long (0 = run to --steps)")


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


def lr_at_step(args, s, began=0):
    """The run's schedule: a linear warm-up over --warmup steps, then a cosine from --lr down to
    --min-lr at --steps. A run begins at step 0, or at `began` when it continues a model's weights
    with a fresh optimiser (its schedule starts there)."""
    warm = min(1.0, (s - began + 1) / args.warmup)
    frac = min(1.0, max(0, s - began - args.warmup) / max(1, args.steps - began - args.warmup))
    return warm * (args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * frac)))


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


class Processes:
    """This process's place in the run: torchrun sets WORLD_SIZE and RANK; a plain run is a world of one."""

    def __init__(self, args):
        torch.set_num_threads(args.threads)
        self.world = int(os.environ.get("WORLD_SIZE", 1))
        self.rank = int(os.environ.get("RANK", 0))
        self.device = pick_device(args.device)
        if self.world > 1:
            torch.distributed.init_process_group("nccl" if self.device.type == "cuda" else "gloo")
            if self.device.type == "cuda":
                torch.cuda.set_device(self.device)
        self.lead = self.rank == 0
        self.bf16 = use_bf16(args.precision, self.device)

    def log(self, message):
        if self.lead:
            print(message, flush=True)


def train(args, procs, config, build, draw, *, start=None, header="", extra=None):
    """Trains a model of build() until --steps or the clock, resuming --out where it exists.

    config: the model's config as JSON (a checkpoint must match it); build: () → a new nn.Module of
    it, whose forward is (x_t, t, condition); draw(gen, batch) → (x0 on the device, condition), the condition
    dropped at random for guidance; start(model, ema, opt, gen) → (step, minutes, warm) or None: where a
    new run starts (a released checkpoint, a shipped model's weights), warm true when its optimiser is
    fresh and a schedule of its own starts at that step; extra: more to keep in the
    checkpoint (what the data was). Returns the EMA model.
    """
    device, world, lead = procs.device, procs.world, procs.lead
    torch.manual_seed(args.seed)
    model = build().to(device)
    ema = build().to(device)
    ema.load_state_dict(model.state_dict())
    ema.requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    gen = torch.Generator().manual_seed(args.seed)
    step, history, minutes, began = 0, [], 0.0, 0
    diffusion = {"numTrainTimesteps": args.T, "betaSchedule": args.schedule, "predictionType": "epsilon"}

    if os.path.exists(args.out):
        step, history, minutes, began = restore(args.out, config, model, ema, opt, gen, device)
        procs.log(f"resumed from {args.out} at step {step} ({minutes:.0f} min trained before)")
        if args.reset_ema:
            ema.load_state_dict(model.state_dict())
            procs.log("the EMA starts again from the current weights (--reset-ema)")
    elif start is not None:
        begun = start(model, ema, opt, gen)
        if begun is not None:
            step, minutes, warm = begun
            began = step if warm else 0
    if world > 1:
        # each process draws its own batches: a stream per (seed, rank, step it started at)
        gen.manual_seed(args.seed * 1_000_003 + procs.rank * 7_919 + step)
    # the processes train through DDP (gradients averaged over all of them); the EMA and the
    # checkpoint use the plain module, identical on every rank
    net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None) if world > 1 else model

    ac = linear_alphas_cumprod(args.T) if args.schedule == "linear" else cosine_alphas_cumprod(args.T)
    sqrt_ac = torch.tensor(np.sqrt(ac), dtype=torch.float32, device=device)
    sqrt_1mac = torch.tensor(np.sqrt(1 - ac), dtype=torch.float32, device=device)
    # Min-SNR-γ (Hang et al. 2023, eq. 8 for ε-prediction): min(SNR_t, γ) / SNR_t, SNR_t = ᾱ_t / (1 − ᾱ_t),
    # as src/training/loss.ts's minSnrWeights; γ = 0 gives every timestep weight 1 (L_simple)
    snr = ac / (1 - ac)
    weight = torch.tensor(np.minimum(snr, args.min_snr) / snr if args.min_snr > 0 else np.ones_like(snr), dtype=torch.float32, device=device)
    procs.log(f"params {sum(p.numel() for p in model.parameters())}  {header}  config {config}  device {device}  "
              f"{'bf16 autocast' if procs.bf16 else 'fp32'}  processes {world}  images per step {args.batch * world}")

    t_start, s_start, running = time.time(), step, None

    def save():
        if not lead:
            return
        tmp = args.out + ".tmp"
        torch.save({"config": config, "diffusion": diffusion, "model": model.state_dict(), "ema": ema.state_dict(),
                    "opt": opt.state_dict(), "gen": gen.get_state(), "torch_rng": torch.get_rng_state(), "step": step, "began": began,
                    "history": history, "minutes": minutes + (time.time() - t_start) / 60, "args": vars(args),
                    **(extra or {})}, tmp)
        os.replace(tmp, args.out)

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    model.train()
    while step < args.steps:
        x0, condition = draw(gen, args.batch)
        t = torch.randint(0, args.T, (args.batch,), generator=gen).to(device)
        eps = torch.randn(x0.shape, generator=gen).to(device)
        xt = sqrt_ac[t][:, None, None, None] * x0 + sqrt_1mac[t][:, None, None, None] * eps  # eq. (4)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=procs.bf16):
            pred = net(xt, t, condition)
        # L_simple, eq. (14), in float32, each image's error weighted by its timestep's weight
        loss = (weight[t] * (pred.float() - eps).square().mean(dim=(1, 2, 3))).mean()
        for g in opt.param_groups:
            g["lr"] = lr_at_step(args, step, began)
        update(model, ema, opt, loss, args.ema)
        step += 1
        lv = loss.item()
        running = lv if running is None else 0.99 * running + 0.01 * lv
        if step % 50 == 0 and lead:
            history.append([step, running])
            ips = (step - s_start) * args.batch * world / (time.time() - t_start)
            print(f"step {step}/{args.steps}  loss {running:.4f}  {ips:.0f} img/s  lr {lr_at_step(args, step, began):.2e}  "
                  f"ETA {(args.steps - step) * args.batch * world / ips / 60:.0f} min", flush=True)
        if step % args.ckpt_every == 0 or step == args.steps:
            save()
            if time_to_stop(args, t_start, device, world):
                procs.log(f"stopping after {args.stop_after_minutes} min at step {step}; rerun to resume")
                break
    save()
    if world > 1:
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
    procs.log(f"done: step {step}{'' if running is None else f', loss {running:.4f}'}, checkpoint {args.out}")
    return ema


def restore(path, config, model, ema, opt, gen, device):
    """A checkpoint's model, EMA, optimiser and RNG states into these; returns (step, history,
    minutes, the step its run began at)."""
    ck = torch.load(path, map_location=device)
    assert ck["config"] == config, f"checkpoint config {ck['config']} differs from {config}"
    model.load_state_dict(ck["model"])
    ema.load_state_dict(ck["ema"])
    opt.load_state_dict(ck["opt"])
    gen.set_state(ck["gen"].cpu())
    torch.set_rng_state(ck["torch_rng"].cpu())
    return ck["step"], ck["history"], ck.get("minutes", 0.0), ck.get("began", 0)
