"""PyTorch's forward pass of a diffusers UNet2DModel layout (the twin in diffusers_unet.py, random
weights), for `npm run bench`'s side-by-side figure:

  /usr/bin/python3 tools/torch/bench_diffusers.py --config '{"sample_size": 32, ...}' --batch 1 --runs 5 --threads 2
prints one JSON line: {"forwardMs": median, "params": …, "torch": version, "threads": …}.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from diffusers_unet import UNet2DModel  # noqa: E402
from timing import median_ms  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--config", required=True, help="a diffusers config.json as JSON")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu", help="cpu or cuda (timed to a synchronise)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    config = json.loads(a.config)
    model = UNet2DModel(config).eval().to(a.device)
    s, c = config["sample_size"], config.get("in_channels", 3)
    x = torch.randn(a.batch, c, s, s, device=a.device)
    t = torch.randint(0, 1000, (a.batch,), device=a.device)
    sync = torch.cuda.synchronize if a.device.startswith("cuda") else (lambda: None)
    forward_ms = median_ms(lambda: model(x, t), a.warmup, a.runs, sync)
    print(json.dumps({"forwardMs": forward_ms, "params": sum(q.numel() for q in model.parameters()),
                      "torch": torch.__version__, "threads": a.threads, "batch": a.batch, "device": a.device}))


if __name__ == "__main__":
    main()
