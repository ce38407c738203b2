"""Train the text-to-image model: the text-conditioned U-Net (text_unet.py) on the captioned digits
(scripts/captioned-digits.ts), DDPM's L_simple (Algorithm 1 of Ho et al. 2020) with caption dropout
for classifier-free guidance (Ho & Salimans 2022).

  npm run captioned-digits                      # writes tools/torch/runs/captioned-digits/
  /usr/bin/python3 tools/torch/train_text.py --steps 15000 --stop-after-minutes 150
      # writes tools/torch/runs/captioned-digits.pt (git-ignored) and resumes from it if it exists;
      # without it, a new run starts from the shipped weights (--init-from, public/models/captioned-digits:
      # model and EMA from its weights, a fresh optimiser, the step count and clock from its metadata)

--device, --precision and torchrun work as in train.py (the loop is loop.py's). Prints a progress
line (step, loss, images/s, ETA) and writes a resumable checkpoint every --ckpt-every steps (model,
EMA, optimiser, RNG states, loss history). Export the EMA weights with tools/torch/export.py.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from loop import Processes, add_args, train  # noqa: E402
from text_unet import TextConfig, TextUNet, TextUNetConfig  # noqa: E402
from tfjs_format import load_tfjs_into, read_tfjs_weights  # noqa: E402

START_ID, PAD_ID = 1, 0


def load_captioned(folder):
    """(images [N, 1, S, S] float32 in [−1, 1], token ids [N, C, L] int64, the data file's JSON)."""
    with open(os.path.join(folder, "data.json")) as f:
        meta = json.load(f)
    s, n, c, length = meta["canvas"], meta["count"], meta["captionsPerPicture"], meta["maxTokens"]
    x = np.fromfile(os.path.join(folder, "images.bin"), dtype=np.uint8).reshape(n, 1, s, s)
    ids = np.asarray(meta["tokens"], dtype=np.int64).reshape(n, c, length)
    return torch.from_numpy(x.astype(np.float32) / 127.5 - 1), torch.from_numpy(ids), meta


def main():
    p = argparse.ArgumentParser()
    add_args(p, out="tools/torch/runs/captioned-digits.pt", steps=15000, ema=0.999, ckpt_every=250)
    p.add_argument("--data", default="tools/torch/runs/captioned-digits", help="the folder scripts/captioned-digits.ts wrote")
    p.add_argument("--init-from", default="public/models/captioned-digits",
                   help="a new --out starts from this exported model's weights if it exists ('' for fresh weights)")
    p.add_argument("--caption-dropout", type=float, default=0.1, help="share of captions replaced by the empty prompt")
    p.add_argument("--base", type=int, default=16)
    p.add_argument("--mults", default="1,2,4,8")
    p.add_argument("--cross-levels", default="2,3", help="levels with cross-attention after their residual blocks (the middle always has it)")
    p.add_argument("--head-channels", type=int, default=32)
    p.add_argument("--text-dim", type=int, default=64)
    p.add_argument("--text-layers", type=int, default=2)
    p.add_argument("--text-heads", type=int, default=4)
    args = p.parse_args()
    procs = Processes(args)
    device = procs.device

    x_train, ids_train, meta = load_captioned(args.data)
    cfg = TextUNetConfig(
        text=TextConfig(vocabulary=meta["vocabulary"], maxTokens=meta["maxTokens"], dim=args.text_dim, layers=args.text_layers, heads=args.text_heads),
        imageSize=meta["canvas"], baseChannels=args.base, channelMults=[int(m) for m in args.mults.split(",")],
        crossAttentionLevels=[int(m) for m in args.cross_levels.split(",") if m != ""], headChannels=args.head_channels)
    x_train, ids_train = x_train.to(device), ids_train.to(device)
    n, c, length = ids_train.shape
    empty = torch.full((length,), PAD_ID, dtype=torch.long, device=device)
    empty[0] = START_ID

    def draw(gen, batch):
        """Pictures, one of each picture's captions, and 10 % (--caption-dropout) the empty prompt, for CFG."""
        idx = torch.randint(0, n, (batch,), generator=gen).to(device)
        which = torch.randint(0, c, (batch,), generator=gen).to(device)
        ids = ids_train[idx, which]
        ids[(torch.rand(batch, generator=gen) < args.caption_dropout).to(device)] = empty
        return x_train[idx], ids

    def start(model, ema, opt, gen):
        """A new run starts from the shipped model's weights (model and EMA), with a fresh optimiser."""
        if not (args.init_from and os.path.exists(os.path.join(args.init_from, "model.json"))):
            return None
        shipped, arrays = read_tfjs_weights(args.init_from)
        assert TextUNetConfig.from_json(shipped).to_json() == cfg.to_json(), f"{args.init_from} has another config than this run's"
        load_tfjs_into(model, arrays)
        load_tfjs_into(ema, arrays)
        with open(os.path.join(args.init_from, "model.json")) as f:
            about = json.load(f)["userDefinedMetadata"]
        step, minutes = int(about.get("steps", 0)), float(about.get("trainingMinutes", 0))
        procs.log(f"started from the weights in {args.init_from} (its EMA, step {step}); the optimiser starts afresh")
        return step, minutes, False

    data = {k: meta[k] for k in ("source", "canvas", "count", "captionsPerPicture", "seed")}
    train(args, procs, cfg.to_json(), lambda: TextUNet(cfg), draw, start=start,
          header=f"pictures {n} × {c} captions", extra={"data": data})


if __name__ == "__main__":
    main()
