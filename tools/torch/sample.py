"""DDPM ancestral sampling (Algorithm 2 of Ho et al. 2020) with the PyTorch mirror of the U-Net.

  /usr/bin/python3 tools/torch/sample.py --guidance 1.5 --count 100 --out samples-torch   # the page's guidance
  npm run eval -- --samples samples-torch        # scores them like the playground's own samples

Two processes with --threads 1, --label 0,1,2,3,4 / 5,6,7,8,9 and different --seed use two cores
without sharing noise.

For when the playground's tfjs sampler is too slow for a large run (1,000 DDPM samples are 10^6
network passes: about 3.7 hours on tfjs-wasm here, 38 minutes as two one-core processes; twice the
passes with --guidance other than 1, 57 and 66 minutes at 1.5): the same model (the EMA weights,
rounded to float16 as export.py ships them, unless --float32), the same classifier-free guidance as
src/pipeline/sample.ts and the same scheduler step as src/diffusion/ddpm.ts (fixed_small variance, x̂0
clipped to [-1, 1]); tests/unit/parity.test.ts checks both against values make_fixtures.py computes
with this file. Writes `<label>_<index>.png` (8-bit grey, -1 → 0 and 1 → 255, as `npm run sample`
does), `--count` per label.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from loop import cosine_alphas_cumprod, linear_alphas_cumprod, pick_device  # noqa: E402
from unet import UNet, UNetConfig  # noqa: E402


class DDPMStep:
    """One reverse step x_t → x_{t-1} (Algorithm 2, line 4) with the posterior of eq. (7)."""

    def __init__(self, alphas_cumprod: np.ndarray):
        ac = alphas_cumprod
        ac_prev = np.concatenate([[1.0], ac[:-1]])
        betas = 1 - ac / ac_prev
        self.ac = ac
        # eq. (7): μ̃_t = x0Coef · x̂0 + xtCoef · x_t,  β̃_t = (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · β_t
        self.x0_coef = np.sqrt(ac_prev) * betas / (1 - ac)
        self.xt_coef = np.sqrt(1 - betas) * (1 - ac_prev) / (1 - ac)
        self.variance = np.maximum((1 - ac_prev) / (1 - ac) * betas, 1e-20)

    def __call__(self, eps: torch.Tensor, t: int, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        x0 = (x - float(np.sqrt(1 - self.ac[t])) * eps) / float(np.sqrt(self.ac[t]))  # eq. (15)
        x0 = x0.clamp(-1, 1)
        mean = float(self.x0_coef[t]) * x0 + float(self.xt_coef[t]) * x
        return mean + float(np.sqrt(self.variance[t])) * z if t > 0 else mean


def guided_eps(model, x, t, labels, guidance, num_classes):
    """ε = ε_uncond + s (ε_cond − ε_uncond); s = 1 is the plain conditional pass (src/pipeline/sample.ts)."""
    ts = torch.full((x.shape[0],), t, dtype=torch.long, device=x.device)
    cond = model(x, ts, labels)
    if guidance == 1:
        return cond
    uncond = model(x, ts, torch.full_like(labels, num_classes))
    return uncond + guidance * (cond - uncond)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ckpt", default="tools/torch/checkpoints/mnist.pt")
    p.add_argument("--weights", choices=["ema", "model"], default="ema")
    p.add_argument("--float32", action="store_true", help="sample with float32 weights (default: rounded to float16, as shipped)")
    p.add_argument("--label", default="all", help="all, or labels separated by commas (e.g. 3 or 0,1,2,3,4)")
    p.add_argument("--count", type=int, default=10, help="samples per label")
    p.add_argument("--guidance", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"], help="auto: CUDA, then MPS, then the CPU (the noise is drawn on the CPU, so a seed gives the same samples anywhere)")
    p.add_argument("--out", required=True)
    args = p.parse_args()
    from PIL import Image  # here, not at the top: bench.py imports DDPMStep on machines without Pillow
    torch.set_num_threads(args.threads)

    device = pick_device(args.device)
    ck = torch.load(args.ckpt, map_location="cpu")
    cfg = UNetConfig(**ck["config"])
    model = UNet(cfg).eval()
    model.load_state_dict(ck[args.weights])
    model.to(device)
    if not args.float32:
        with torch.no_grad():
            for q in model.parameters():
                q.copy_(q.half().float())
    d = ck["diffusion"]
    T = d["numTrainTimesteps"]
    step = DDPMStep(linear_alphas_cumprod(T) if d["betaSchedule"] == "linear" else cosine_alphas_cumprod(T))

    try:
        labels_wanted = list(range(cfg.numClasses)) if args.label == "all" else [int(lab) for lab in args.label.split(",")]
    except ValueError:
        labels_wanted = [-1]
    if not all(0 <= lab < cfg.numClasses for lab in labels_wanted):
        p.error(f"--label must be all or labels in 0-{cfg.numClasses - 1}; got {args.label!r}")
    jobs = [(lab, i) for lab in labels_wanted for i in range(args.count)]
    os.makedirs(args.out, exist_ok=True)
    gen = torch.Generator().manual_seed(args.seed)
    started = time.time()
    for b in range(0, len(jobs), args.batch):
        chunk = jobs[b:b + args.batch]
        labels = torch.tensor([lab for lab, _ in chunk], dtype=torch.long, device=device)
        x = torch.randn(len(chunk), cfg.inChannels, cfg.imageSize, cfg.imageSize, generator=gen).to(device)
        with torch.no_grad():
            for t in range(T - 1, -1, -1):
                eps = guided_eps(model, x, t, labels, args.guidance, cfg.numClasses)
                x = step(eps, t, x, torch.randn(x.shape, generator=gen).to(device))
        pixels = torch.floor(x.clamp(-1, 1) * 127.5 + 128).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()  # half up, as Math.round
        for (lab, i), img in zip(chunk, pixels):
            Image.fromarray(img[..., 0] if img.shape[-1] == 1 else img).save(os.path.join(args.out, f"{lab}_{i}.png"))
        done = b + len(chunk)
        el = time.time() - started
        print(f"{done}/{len(jobs)} samples  {el:.0f} s  ETA {el / done * (len(jobs) - done) / 60:.0f} min", flush=True)
    print(f"wrote {len(jobs)} samples to {args.out} in {time.time() - started:.1f} s", flush=True)


if __name__ == "__main__":
    main()
