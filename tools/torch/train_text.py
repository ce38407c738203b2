"""Train the text-to-image model: the text-conditioned U-Net (text_unet.py) on the captioned digits
(scripts/captioned-digits.ts), DDPM's L_simple (Algorithm 1 of Ho et al. 2020) with caption dropout
for classifier-free guidance (Ho & Salimans 2022).

  npm run captioned-digits                      # writes tools/torch/runs/captioned-digits/
  /usr/bin/python3 tools/torch/train_text.py --steps 15000 --stop-after-minutes 150
      # writes tools/torch/runs/captioned-digits.pt (git-ignored) and resumes from it if it exists;
      # without it, a new run starts from the shipped weights (--init-from, public/models/captioned-digits:
      # model and EMA from its weights, a fresh optimiser, the step count and clock from its metadata)

--device, --precision and torchrun work as in train.py. Prints a progress line (step, loss,
images/s, ETA) and writes a resumable checkpoint every --ckpt-every steps (model, EMA, optimiser,
RNG states, loss history). Export the EMA weights with tools/torch/export_text.py.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from text_unet import TextConfig, TextUNet, TextUNetConfig  # noqa: E402
from tfjs_format import load_tfjs_into, read_tfjs_weights  # noqa: E402
from train import cosine_alphas_cumprod, linear_alphas_cumprod, lr_at_step, pick_device, time_to_stop, update, use_bf16  # noqa: E402

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
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"])
    p.add_argument("--data", default="tools/torch/runs/captioned-digits", help="the folder scripts/captioned-digits.ts wrote")
    p.add_argument("--out", default="tools/torch/runs/captioned-digits.pt", help="this run's checkpoint (git-ignored); resumed if it exists")
    p.add_argument("--init-from", default="public/models/captioned-digits",
                   help="a new --out starts from this exported model's weights if it exists ('' for fresh weights)")
    p.add_argument("--steps", type=int, default=15000, help="total optimiser steps (the LR schedule spans them)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--min-lr", type=float, default=5e-5)
    p.add_argument("--warmup", type=int, default=500)
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--caption-dropout", type=float, default=0.1, help="share of captions replaced by the empty prompt")
    p.add_argument("--schedule", choices=["linear", "cosine"], default="linear")
    p.add_argument("--T", type=int, default=1000)
    p.add_argument("--base", type=int, default=16)
    p.add_argument("--mults", default="1,2,4,8")
    p.add_argument("--cross-levels", default="2,3", help="levels with cross-attention after their residual blocks (the middle always has it)")
    p.add_argument("--head-channels", type=int, default=32)
    p.add_argument("--text-dim", type=int, default=64)
    p.add_argument("--text-layers", type=int, default=2)
    p.add_argument("--text-heads", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--ckpt-every", type=int, default=250)
    p.add_argument("--stop-after-minutes", type=float, default=0, help="checkpoint and exit after this long (0 = run to --steps)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    world = int(os.environ.get("WORLD_SIZE", 1))
    rank = int(os.environ.get("RANK", 0))
    device = pick_device(args.device)
    if world > 1:
        torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
        if device.type == "cuda":
            torch.cuda.set_device(device)
    lead = rank == 0
    bf16 = use_bf16(args.precision, device)

    x_train, ids_train, meta = load_captioned(args.data)
    cfg = TextUNetConfig(
        text=TextConfig(vocabulary=meta["vocabulary"], maxTokens=meta["maxTokens"], dim=args.text_dim, layers=args.text_layers, heads=args.text_heads),
        imageSize=meta["canvas"], baseChannels=args.base, channelMults=[int(m) for m in args.mults.split(",")],
        crossAttentionLevels=[int(m) for m in args.cross_levels.split(",") if m != ""], headChannels=args.head_channels)
    torch.manual_seed(args.seed)
    model = TextUNet(cfg).to(device)
    ema = TextUNet(cfg).to(device)
    ema.load_state_dict(model.state_dict())
    ema.requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    gen = torch.Generator().manual_seed(args.seed)
    step, history, minutes = 0, [], 0.0
    diffusion = {"numTrainTimesteps": args.T, "betaSchedule": args.schedule, "predictionType": "epsilon"}

    if os.path.exists(args.out):
        ck = torch.load(args.out, map_location=device)
        assert ck["config"] == cfg.to_json(), f"checkpoint config {ck['config']} differs from {cfg.to_json()}"
        model.load_state_dict(ck["model"])
        ema.load_state_dict(ck["ema"])
        opt.load_state_dict(ck["opt"])
        gen.set_state(ck["gen"].cpu())
        torch.set_rng_state(ck["torch_rng"].cpu())
        step, history, minutes = ck["step"], ck["history"], ck.get("minutes", 0.0)
        if lead:
            print(f"resumed from {args.out} at step {step} ({minutes:.0f} min trained before)", flush=True)
    elif args.init_from and os.path.exists(os.path.join(args.init_from, "model.json")):
        shipped, arrays = read_tfjs_weights(args.init_from)
        assert TextUNetConfig.from_json({k: v for k, v in shipped.items() if k != "numClasses"}).to_json() == cfg.to_json(), \
            f"{args.init_from} has another config than this run's"
        load_tfjs_into(model, arrays)
        load_tfjs_into(ema, arrays)
        with open(os.path.join(args.init_from, "model.json")) as f:
            about = json.load(f)["userDefinedMetadata"]
        step, minutes = int(about.get("steps", 0)), float(about.get("trainingMinutes", 0))
        if lead:
            print(f"started from the weights in {args.init_from} (its EMA, step {step}); the optimiser starts afresh", flush=True)
    if world > 1:
        gen.manual_seed(args.seed * 1_000_003 + rank * 7_919 + step)
    net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None) if world > 1 else model

    x_train, ids_train = x_train.to(device), ids_train.to(device)
    n, c, length = ids_train.shape
    empty = torch.full((length,), PAD_ID, dtype=torch.long, device=device)
    empty[0] = START_ID
    ac = linear_alphas_cumprod(args.T) if args.schedule == "linear" else cosine_alphas_cumprod(args.T)
    sqrt_ac = torch.tensor(np.sqrt(ac), dtype=torch.float32, device=device)
    sqrt_1mac = torch.tensor(np.sqrt(1 - ac), dtype=torch.float32, device=device)
    if lead:
        print(f"params {sum(p.numel() for p in model.parameters())}  pictures {n} × {c} captions  config {cfg.to_json()}  "
              f"device {device}  {'bf16 autocast' if bf16 else 'fp32'}  processes {world}", flush=True)

    lr_at = lambda s: lr_at_step(args, s)  # noqa: E731

    t_start, s_start, running = time.time(), step, None

    def save():
        if not lead:
            return
        tmp = args.out + ".tmp"
        torch.save({"config": cfg.to_json(), "diffusion": diffusion, "model": model.state_dict(), "ema": ema.state_dict(),
                    "opt": opt.state_dict(), "gen": gen.get_state(), "torch_rng": torch.get_rng_state(), "step": step,
                    "history": history, "minutes": minutes + (time.time() - t_start) / 60, "args": vars(args),
                    "data": {k: meta[k] for k in ("source", "canvas", "count", "captionsPerPicture", "seed")}}, tmp)
        os.replace(tmp, args.out)

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    model.train()
    while step < args.steps:
        idx = torch.randint(0, n, (args.batch,), generator=gen).to(device)
        which = torch.randint(0, c, (args.batch,), generator=gen).to(device)
        ids = ids_train[idx, which]
        ids[(torch.rand(args.batch, generator=gen) < args.caption_dropout).to(device)] = empty  # the empty prompt, for CFG
        x0 = x_train[idx]
        t = torch.randint(0, args.T, (args.batch,), generator=gen).to(device)
        eps = torch.randn(x0.shape, generator=gen).to(device)
        xt = sqrt_ac[t][:, None, None, None] * x0 + sqrt_1mac[t][:, None, None, None] * eps  # eq. (4)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=bf16):
            pred = net(xt, t, ids)
        loss = F.mse_loss(pred.float(), eps)  # L_simple, eq. (14)
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
            print(f"step {step}/{args.steps}  loss {running:.4f}  {ips:.0f} img/s  lr {lr_at(step):.2e}  "
                  f"ETA {(args.steps - step) * args.batch * world / ips / 60:.0f} min", flush=True)
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
