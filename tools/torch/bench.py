"""Training and forward throughput of a U-Net in PyTorch on this machine's CPU, for `npm run bench`
to set beside tfjs (same architecture, same batch, same run). Prints one JSON object.

    /usr/bin/python3 tools/torch/bench.py --config '<UNetConfig JSON>' --batch 16 --threads 2

A training step is train.py's: L_simple (eq. 14) on random images, AdamW, global-norm clipping at 1
and the EMA update; timed over --steps steps after --warmup untimed ones.
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F

from train import update
from unet import UNet, UNetConfig


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--config", required=True, help="UNetConfig as JSON (the tfjs config object)")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--steps", type=int, default=10)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = UNetConfig(**json.loads(args.config))
    model, ema = UNet(cfg), UNet(cfg)
    ema.load_state_dict(model.state_dict())
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)
    b, c, s = args.batch, cfg.inChannels, cfg.imageSize
    x0 = torch.rand(b, c, s, s) * 2 - 1
    y = torch.arange(b) % max(1, cfg.numClasses) if cfg.numClasses > 0 else None

    def train_step():
        t = torch.randint(0, 1000, (b,))
        eps = torch.randn_like(x0)
        update(model, ema, opt, F.mse_loss(model(0.7 * x0 + 0.7 * eps, t, y), eps), 0.999)

    def forward():
        with torch.no_grad():
            model(x0, torch.full((b,), 500), y)

    def timed(f, n):
        for _ in range(args.warmup):
            f()
        start = time.perf_counter()
        for _ in range(n):
            f()
        return (time.perf_counter() - start) / n

    step_s = timed(train_step, args.steps)
    forward_s = timed(forward, args.steps)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "batch": b,
                      "trainImagesPerSec": b / step_s, "forwardMs": forward_s * 1000}))


if __name__ == "__main__":
    main()
