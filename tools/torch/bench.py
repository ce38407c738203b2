"""The U-Net's speed in PyTorch eager, to set beside tfjs (same architecture, same run). Prints JSON.

    /usr/bin/python3 tools/torch/bench.py --config '<UNetConfig JSON>' --batch 16 --threads 2 --device cpu
        training images/s and forward ms at one batch, as one JSON line (`npm run bench`, this CPU)
    python3 tools/torch/bench.py --config '<UNetConfig JSON>' --device cuda --suite
        forward ms at --forward-batches (median), DDPM-1000 at batch 1 and DDIM-50 at batch 16 (s),
        training images/s at --train-batches (bench/gpu.ts, on a GPU); one JSON line after every
        phase, each holding everything so far, so a caller that has to stop it keeps the last line

--device auto (the default) is cuda where available. A training step is loop.py's update() on
L_simple (eq. 14): AdamW, global-norm clipping at 1, the EMA update. The samplers take the app's steps:
sample.py's DDPMStep (checked against src/diffusion/ddpm.ts by tests/unit/parity.test.ts) and DDIM
with η = 0 as src/diffusion/ddim.ts, one network pass per step (guidance 1). Every timing waits for
the device (torch.cuda.synchronize). A suite phase stops taking timed runs after --cap-s seconds; a
sampler run stopped that way is extrapolated from the steps it made, and says so.
"""
import argparse
import json
import math
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from sample import DDPMStep
from loop import linear_alphas_cumprod, update
from unet import UNet, UNetConfig


class DDIMStep:
    """x_t → x_prev with η = 0 (Song et al. 2021, eq. 12), as src/diffusion/ddim.ts: "leading"
    timesteps, x̂0 clipped to [-1, 1], ᾱ = 1 after t = 0."""

    def __init__(self, alphas_cumprod: np.ndarray, steps: int):
        self.ac = alphas_cumprod
        self.ratio = len(alphas_cumprod) // steps
        self.timesteps = [(steps - 1 - i) * self.ratio for i in range(steps)]

    def __call__(self, eps: torch.Tensor, t: int, x: torch.Tensor) -> torch.Tensor:
        ac_t = float(self.ac[t])
        ac_prev = float(self.ac[t - self.ratio]) if t >= self.ratio else 1.0
        x0 = ((x - math.sqrt(1 - ac_t) * eps) / math.sqrt(ac_t)).clamp(-1, 1)  # eq. (15), clipped
        return math.sqrt(ac_prev) * x0 + math.sqrt(1 - ac_prev) * eps


def log(message):
    print(message, file=sys.stderr, flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--config", required=True, help="UNetConfig as JSON (the tfjs config object)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--threads", type=int, default=2, help="CPU threads")
    p.add_argument("--batch", type=int, default=16, help="the one batch without --suite")
    p.add_argument("--warmup", type=int, default=3, help="untimed runs before the timed ones")
    p.add_argument("--steps", type=int, default=10, help="timed training steps (and forward passes without --suite)")
    p.add_argument("--suite", action="store_true", help="the GPU suite: forward, DDPM, DDIM, training at several batches")
    p.add_argument("--forward-batches", default="1,16,256,1024")
    p.add_argument("--runs", type=int, default=20, help="timed forward passes per batch (--suite)")
    p.add_argument("--train-batches", default="64,256")
    p.add_argument("--ddpm-batch", type=int, default=1, help="0 skips the DDPM run")
    p.add_argument("--ddim-batch", type=int, default=16, help="0 skips the DDIM run")
    p.add_argument("--ddim-steps", type=int, default=50)
    p.add_argument("--timesteps", type=int, default=1000, help="T of the linear schedule (DDPM takes T steps)")
    p.add_argument("--cap-s", type=float, default=60, help="seconds of timed work per phase (--suite)")
    p.add_argument("--tf32", action="store_true", help="let CUDA convolutions and matmuls use TF32 (default: strict float32, as WebGPU)")
    args = p.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        p.error("--device cuda: torch.cuda.is_available() is False (no CUDA build of PyTorch, driver or GPU)")
    device = torch.device("cuda" if args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available()) else "cpu")
    torch.set_num_threads(args.threads)
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.backends.cudnn.allow_tf32 = args.tf32
    torch.manual_seed(0)
    cfg = UNetConfig(**json.loads(args.config))
    model, ema = UNet(cfg).to(device), UNet(cfg).to(device)
    ema.load_state_dict(model.state_dict())
    ema.requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)
    ac = linear_alphas_cumprod(args.timesteps)
    sqrt_ac = torch.tensor(np.sqrt(ac), dtype=torch.float32, device=device)
    sqrt_1mac = torch.tensor(np.sqrt(1 - ac), dtype=torch.float32, device=device)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    def noise(b):
        return torch.randn(b, cfg.inChannels, cfg.imageSize, cfg.imageSize, device=device)

    def labels(b):
        return torch.arange(b, device=device) % cfg.numClasses if cfg.numClasses > 0 else None

    def timed_ms(f, runs, cap_s=math.inf):
        """ms of each timed run of f, after --warmup untimed ones; no new run once cap_s is spent."""
        for _ in range(args.warmup):
            f()
        sync()
        ms, start = [], time.perf_counter()
        while len(ms) < runs and (not ms or time.perf_counter() - start < cap_s):
            t0 = time.perf_counter()
            f()
            sync()
            ms.append((time.perf_counter() - t0) * 1000)
        return ms

    def forward_fn(b):
        x, y = noise(b), labels(b)
        t = torch.randint(0, args.timesteps, (b,), device=device)

        def forward():
            with torch.no_grad():
                model(x, t, y)
        return forward

    def train_fn(b):
        x0 = torch.rand(b, cfg.inChannels, cfg.imageSize, cfg.imageSize, device=device) * 2 - 1
        y = labels(b)

        def train_step():
            t = torch.randint(0, args.timesteps, (b,), device=device)
            eps = torch.randn_like(x0)
            xt = sqrt_ac[t][:, None, None, None] * x0 + sqrt_1mac[t][:, None, None, None] * eps  # eq. (4)
            update(model, ema, opt, F.mse_loss(model(xt, t, y), eps), 0.999)
        return train_step

    report = {"torch": torch.__version__, "device": device.type, "threads": torch.get_num_threads()}
    if device.type == "cuda":
        report |= {"gpu": torch.cuda.get_device_name(device), "cudnn": torch.backends.cudnn.version(), "tf32": args.tf32}

    if not args.suite:
        model.train()
        step_ms = timed_ms(train_fn(args.batch), args.steps)
        model.eval()
        forward_ms = timed_ms(forward_fn(args.batch), args.steps)
        print(json.dumps(report | {"batch": args.batch, "trainImagesPerSec": args.batch / (sum(step_ms) / len(step_ms) / 1000),
                                   "forwardMs": sum(forward_ms) / len(forward_ms)}), flush=True)
        return

    def sampler_run(name, batch, timesteps, step):
        """Seconds for the whole reverse process at `batch` (extrapolated if the cap stopped it)."""
        x, y = noise(batch), labels(batch)
        with torch.no_grad():
            def one(i):
                nonlocal x
                t = timesteps[i]
                eps = model(x, torch.full((batch,), t, dtype=torch.long, device=device), y)
                x = step(eps, t, x)
            for i in range(min(args.warmup, len(timesteps))):
                one(i)
            x = noise(batch)
            sync()
            start, done = time.perf_counter(), 0
            while done < len(timesteps):
                one(done)
                done += 1
                if done % 25 == 0:  # look at the clock now and then: each look drains the queue
                    sync()
                    if time.perf_counter() - start > args.cap_s:
                        break
            sync()
        seconds = time.perf_counter() - start
        out = {"batch": batch, "steps": len(timesteps), "stepsTimed": done, "seconds": seconds * len(timesteps) / done}
        if done < len(timesteps):
            out["note"] = f"{name}: {done} of {len(timesteps)} steps timed (cap {args.cap_s} s), the rest extrapolated"
        return out

    model.eval()
    report |= {"config": cfg.to_json(), "forwardMs": {}, "forwardMsRuns": {}, "trainImagesPerSec": {}, "errors": []}
    phases = [(f"forward batch {b}", b, "forward") for b in map(int, args.forward_batches.split(",")) if b > 0]
    if args.ddpm_batch > 0:
        phases.append((f"ddpm{args.timesteps} batch {args.ddpm_batch}", args.ddpm_batch, "ddpm"))
    if args.ddim_batch > 0:
        phases.append((f"ddim{args.ddim_steps} batch {args.ddim_batch}", args.ddim_batch, "ddim"))
    phases += [(f"train batch {b}", b, "train") for b in map(int, args.train_batches.split(",")) if b > 0]
    for name, b, kind in phases:
        log(f"[pytorch {device.type}] {name}")
        try:
            if kind == "forward":
                ms = timed_ms(forward_fn(b), args.runs, args.cap_s)
                report["forwardMs"][str(b)] = statistics.median(ms)
                report["forwardMsRuns"][str(b)] = ms
            elif kind == "ddpm":
                ddpm = DDPMStep(ac)
                report["ddpm"] = sampler_run(name, b, list(range(args.timesteps - 1, -1, -1)),
                                             lambda eps, t, x: ddpm(eps, t, x, torch.randn_like(x)))
            elif kind == "ddim":
                ddim = DDIMStep(ac, args.ddim_steps)
                report["ddim"] = sampler_run(name, b, ddim.timesteps, ddim)
            else:
                model.train()
                ms = timed_ms(train_fn(b), args.steps, args.cap_s)
                model.eval()
                report["trainImagesPerSec"][str(b)] = b * len(ms) / (sum(ms) / 1000)
        except Exception as e:  # e.g. out of memory at a large batch: record it, go on
            report["errors"].append(f"{name}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
            if device.type == "cuda":
                torch.cuda.empty_cache()
        print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
