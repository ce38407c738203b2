"""Train the colour prior (issue 27): a class-conditional diffusers UNet2DModel (the twin in
diffusers_unet.py, diffusers' parameter names) on the Noto emoji at 32×32 RGB, the class being the
emoji's category, with label dropout for classifier-free guidance: class 9 is "no label".

  /usr/bin/python3 tools/torch/emoji_data.py                       # → tools/torch/runs/emoji/emoji-32.npz
  /usr/bin/python3 tools/torch/train_emoji.py --stop-after-minutes 150
      # writes tools/torch/runs/emoji.pt (git-ignored) and resumes from it if it exists; the shipped
      # model is this run to step 13,000 (its EMA restarted at 2,000: --ema 0.998 --reset-ema 1; then
      # --steps 7000 --lr 5e-4 --ema 0.999 from 3,000, stopped on the clock at 6,250; then --steps 9500
      # --lr 5e-4 --ema 0.999 from there; then --steps 13500, and from 11,750 --steps 13000, with the
      # same --lr and --ema), then continued to step 21,000 from the exported folder (--init-from, below)
      # and from there to 24,500 with the categories drawn by the square root of their counts, then to
      # 30,000 and from there to 36,000 with every category drawn alike (--balance 1)
  /usr/bin/python3 tools/torch/train_emoji.py --out tools/torch/runs/emoji-wide.pt --channels 48,96,96 \
      --steps 13000 --lr 5e-4 --ema 0.999 --min-snr 5
      # the wider layout, with the Min-SNR-5 weights the page trains new models with (docs/colour.md)
  /usr/bin/python3 tools/torch/train_emoji.py --out tools/torch/runs/emoji-more.pt --init-from public/models/emoji \
      --steps 21000 --lr 2e-4 --min-lr 2e-5 --warmup 100 --ema 0.999
      # continues the shipped model where its checkpoint is gone: model and EMA from its weights, the
      # step count and clock from playground.json, a fresh optimiser on a schedule of its own (warm-up,
      # then the cosine from --lr to --min-lr at --steps)
  /usr/bin/python3 tools/torch/train_emoji.py --out tools/torch/runs/emoji-balanced.pt --init-from public/models/emoji \
      --steps 24500 --lr 1e-4 --min-lr 1e-5 --warmup 100 --ema 0.999 --balance 0.5 --threads 2
      # the same, each category drawn by the square root of its count
  /usr/bin/python3 tools/torch/train_emoji.py --out tools/torch/runs/emoji-bal1b.pt --init-from public/models/emoji \
      --steps 36000 --lr 1e-4 --min-lr 1e-5 --warmup 100 --ema 0.999 --balance 1 --threads 2
      # and every category drawn alike: the shipped model's last part (from the step-30,000 folder, which
      # the same command with --out tools/torch/runs/emoji-bal1.pt --steps 30000 made from step 24,500)
  /usr/bin/python3 tools/torch/train_emoji.py --export public/models/emoji --fixture-name shipped-emoji
      # the EMA weights as a diffusers folder: config.json, diffusion_pytorch_model.safetensors,
      # scheduler_config.json, and playground.json (the category names, the "no label" class and the
      # sampling settings the page opens it on)

The held-out tenth (emoji_data.py, held_out.txt) is never trained on. The loop is loop.py's
(--device, --precision and torchrun as in train.py).
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from data import load_emoji  # noqa: E402
from diffusers_unet import UNet2DModel, load_pretrained, save_pretrained  # noqa: E402
from loop import Processes, add_args, train  # noqa: E402


def config_for(args, classes: int) -> dict:
    """The UNet2DModel's config.json: --channels per level, attention at the levels of --attention."""
    widths = [int(c) for c in args.channels.split(",")]
    attn = {int(i) for i in args.attention.split(",") if i != ""}
    return {
        "_class_name": "UNet2DModel",
        "sample_size": 32,
        "in_channels": 3,
        "out_channels": 3,
        "block_out_channels": widths,
        "layers_per_block": args.layers,
        "down_block_types": ["AttnDownBlock2D" if i in attn else "DownBlock2D" for i in range(len(widths))],
        "up_block_types": ["AttnUpBlock2D" if len(widths) - 1 - i in attn else "UpBlock2D" for i in range(len(widths))],
        "attention_head_dim": args.head_dim,
        "norm_num_groups": args.groups,
        "num_class_embeds": classes + 1,  # the categories, then "no label"
    }


def main():
    p = argparse.ArgumentParser()
    add_args(p, out="tools/torch/runs/emoji.pt", steps=3000, ema=0.9995, ckpt_every=250)
    p.add_argument("--data", default="tools/torch/runs/emoji/emoji-32.npz", help="what emoji_data.py wrote")
    p.add_argument("--label-dropout", type=float, default=0.1)
    p.add_argument("--flip", type=int, default=1, help="mirror pictures left–right at random")
    p.add_argument("--balance", type=float, default=0.0,
                   help="draw each picture with weight n_c^−balance, n_c its category's count: 0 every picture alike (the shipped "
                        "run: People & Body 60 %% of draws, Activities 2 %%), 0.5 by the square root, 1 every category alike")
    p.add_argument("--channels", default="32,64,64", help="per level (the shipped model's; chosen by speed, docs/colour.md)")
    p.add_argument("--layers", type=int, default=1, help="resnets per level (layers_per_block)")
    p.add_argument("--attention", default="2", help="levels with attention")
    p.add_argument("--head-dim", type=int, default=32)
    p.add_argument("--groups", type=int, default=16)
    p.add_argument("--init-from", default="", help="a new --out starts from this diffusers folder's weights (the shipped model: public/models/emoji)")
    p.add_argument("--export", default="", help="write the checkpoint's EMA as a diffusers folder here, and stop")
    p.add_argument("--fixture-name", default="", help="with --export: also tests/fixtures/parity/<name>-io.json (shipping it: shipped-emoji)")
    args = p.parse_args()

    images, category, held_out = load_emoji(args.data)
    folder = os.path.dirname(args.data)
    with open(os.path.join(folder, "categories.txt")) as f:
        categories = [line.strip() for line in f if line.strip()]
    if args.export:
        return export(args.out, args.export, categories, args.fixture_name)
    config = config_for(args, len(categories))
    procs = Processes(args)
    device = procs.device
    x_train = images[~held_out].to(device)  # [N, 3, 32, 32]
    y_train = category[~held_out].to(device)
    no_label = len(categories)
    labels = y_train.cpu()
    weight = torch.bincount(labels, minlength=no_label).float()[labels].pow(-args.balance)  # for --balance

    def draw(gen, batch):
        if args.balance:
            idx = torch.multinomial(weight, batch, replacement=True, generator=gen).to(device)
        else:
            idx = torch.randint(0, len(x_train), (batch,), generator=gen).to(device)
        x0, y = x_train[idx], y_train[idx].clone()
        y[(torch.rand(batch, generator=gen) < args.label_dropout).to(device)] = no_label  # for CFG
        if args.flip:
            mirror = (torch.rand(batch, generator=gen) < 0.5).to(device)
            x0 = torch.where(mirror[:, None, None, None], x0.flip(3), x0)
        return x0, y

    def start(model, ema, opt, gen):
        """--init-from: model and EMA from a diffusers folder's weights, a fresh optimiser."""
        if not args.init_from:
            return None
        shipped = load_pretrained(args.init_from)
        assert shipped.config == model.config, f"{args.init_from} has another config than this run's"
        model.load_state_dict(shipped.state_dict())
        ema.load_state_dict(shipped.state_dict())
        with open(os.path.join(args.init_from, "playground.json")) as f:
            about = json.load(f)
        procs.log(f"started from the weights in {args.init_from} (step {about['steps']}); the optimiser starts afresh")
        return int(about["steps"]), float(about.get("trainingMinutes", 0)), True

    held = int(held_out.sum())
    train(args, procs, config, lambda: UNet2DModel(config), draw, start=start,
          header=f"emoji {len(x_train)} (held out {held})", extra={"categories": categories})


# the settings the page opens the model on, measured best by npm run eval:emoji (docs/colour.md):
# DPM-Solver++ 20 steps at guidance 3.5 (step 36,000: 85.3 % read right at 1.38x the Fréchet floor, where 3
# reads 82.8 % at 1.21x and 4 85.8 % at 1.51x), the first category (Smileys & Emotion)
SAMPLING = {"sampler": "dpm-solver++", "steps": 20, "guidance": 3.5, "label": 0}


def export(ckpt_path: str, out: str, categories: list, fixture_name: str):
    """The EMA weights as a diffusers folder that UNet2DModel.from_pretrained loads, with the page's
    playground.json and a model card (README.md, with the images' licence); with fixture_name, also
    a parity fixture: PyTorch's output on the stored (F16) weights."""
    ck = torch.load(ckpt_path, map_location="cpu")
    model = UNet2DModel(ck["config"])
    model.load_state_dict(ck["ema"])
    save_pretrained(model, out, "F16")
    if fixture_name:
        write_fixture(model, fixture_name, no_label=len(categories))
    d = ck["diffusion"]
    with open(os.path.join(out, "scheduler_config.json"), "w") as f:
        linear = d["betaSchedule"] == "linear"
        json.dump({"_class_name": "DDPMScheduler", "num_train_timesteps": d["numTrainTimesteps"],
                   "beta_schedule": "linear" if linear else "squaredcos_cap_v2", **({"beta_start": 1e-4, "beta_end": 0.02} if linear else {}),
                   "prediction_type": d["predictionType"], "variance_type": "fixed_small", "clip_sample": True}, f, indent=2)
    with open(os.path.join(out, "playground.json"), "w") as f:
        json.dump({"classes": categories, "noLabelClass": len(categories), "sampling": SAMPLING, "steps": ck["step"],
                   "trainingMinutes": round(ck.get("minutes", 0), 1)}, f, indent=2)
    with open(os.path.join(out, "README.md"), "w") as f:
        gamma = ck["args"].get("min_snr", 0)
        f.write(MODEL_CARD.format(loss=f"L_simple weighted by Min-SNR-{gamma:g} (Hang et al. 2023)" if gamma else "L_simple", step=ck["step"], images=ck["step"] * ck["args"]["batch"], params=sum(v.numel() for v in ck["ema"].values()),
                                  mirrored=", mirrored left–right at random" if ck["args"]["flip"] else ""))
    print(f"exported step {ck['step']} (ema) to {out}")


def write_fixture(model, name: str, no_label: int):
    """tests/fixtures/parity/<name>-io.json: inputs (NHWC, as the engine takes them) and the model's ε on its F16-rounded weights."""
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())
        gen = torch.Generator().manual_seed(0)
        x = torch.randn(3, 3, 32, 32, generator=gen)
        t = torch.tensor([5, 500, 999])
        labels = torch.tensor([0, 4, no_label])
        y = model(x, t, labels)
    io = {"x": x.permute(0, 2, 3, 1).reshape(-1).tolist(), "shape": [3, 32, 32, 3], "t": t.tolist(), "labels": labels.tolist(),
          "y": y.permute(0, 2, 3, 1).reshape(-1).tolist(), "numParams": sum(p.numel() for p in model.parameters())}
    path = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "parity", f"{name}-io.json")
    with open(path, "w") as f:
        json.dump(io, f)
    print(f"wrote {os.path.normpath(path)}")


MODEL_CARD = """# emoji, 32 px colour — the DDPM Playground's colour prior

A class-conditional diffusers `UNet2DModel` ({params:,} parameters) trained by
`tools/torch/train_emoji.py` (DDPM, Ho et al. 2020, {loss}, linear β schedule, T = 1000) on the
Noto Color Emoji at 32×32 over black, the class being the emoji's category (playground.json: the
nine category names; row 9 of the class embedding means "no label", trained by 10 % label dropout
for classifier-free guidance). EMA weights at step {step:,} ({images:,} images, batch 64{mirrored}).
A fixed tenth of the emoji, chosen by code point (tools/torch/emoji_data.py,
held_out.txt), was never trained on.

Load it with `UNet2DModel.from_pretrained` (diffusers) or the playground (model bar: "Emoji, 32 px colour").

## Licence of the training images

The Noto Color Emoji images are © Google, licensed under the Apache License 2.0
(https://www.apache.org/licenses/LICENSE-2.0); they came from the npm package
`emoji-datasource-google` 16.0.0 (© 2013 Cal Henderson, MIT). These weights were trained on them.
"""


if __name__ == "__main__":
    main()
