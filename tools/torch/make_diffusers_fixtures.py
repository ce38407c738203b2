"""Fixtures for the diffusers loader: small UNet2DModel folders made by the project's PyTorch twin
(diffusers_unet.py), in every weights format the loader reads, with inputs and the twin's outputs.

  /usr/bin/python3 tools/torch/make_diffusers_fixtures.py   # writes tests/fixtures/diffusers/<case>/
  /usr/bin/python3 tools/torch/make_diffusers_fixtures.py --cifar10 DIR   # google/ddpm-cifar10-32's layout (35.7M
      # parameters, random weights): DIR/safetensors/ and DIR/bin-old-names/ model folders, DIR/x.npy, t.npy and
      # DIR/eps.npy (the twin's output), to hold `npm run predict` against (not committed: 143 MB each)

Each case: config.json, the weights (safetensors F32/F16/BF16, or a .bin by torch.save, with the old
attention names where asked), scheduler_config.json, and io.json (x and y NHWC, t, labels). For F16 and
BF16 the outputs are the model's with its weights rounded to that type, as the file stores them.
Committed, so tests/unit/diffusers.test.ts needs no Python.
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from diffusers_unet import SAFETENSORS_DTYPES, UNet2DModel, save_pretrained  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "diffusers")

ATTN = {  # attention in a down and an up block and the middle, one head; diffusers' current defaults otherwise
    "sample_size": 8, "in_channels": 3, "out_channels": 3, "block_out_channels": [16, 32], "layers_per_block": 1,
    "down_block_types": ["DownBlock2D", "AttnDownBlock2D"], "up_block_types": ["AttnUpBlock2D", "UpBlock2D"],
    "norm_num_groups": 4, "attention_head_dim": None,
}
CIFAR_LIKE = {  # the DDPM paper's conventions (google/ddpm-cifar10-32): pad right/bottom, [sin, cos], shift 1, ε 1e-6;
    # plus what that model lacks: classes, heads of 8, a centred input, a mid scale factor
    "sample_size": 8, "in_channels": 1, "out_channels": 1, "block_out_channels": [16, 16], "layers_per_block": 2,
    "down_block_types": ["AttnDownBlock2D", "DownBlock2D"], "up_block_types": ["UpBlock2D", "AttnUpBlock2D"],
    "norm_num_groups": 4, "attention_head_dim": 8, "downsample_padding": 0, "flip_sin_to_cos": False, "freq_shift": 1,
    "norm_eps": 1e-6, "num_class_embeds": 5, "center_input_sample": True, "mid_block_scale_factor": 1.5,
}
NO_MID_ATTENTION = {**ATTN, "down_block_types": ["DownBlock2D", "DownBlock2D"], "up_block_types": ["UpBlock2D", "UpBlock2D"], "add_attention": False}

CASES = {
    "attn-f32": (ATTN, "F32", False),
    "attn-bf16": (ATTN, "BF16", False),
    "cifar-like-f16": (CIFAR_LIKE, "F16", False),
    "cifar-like-bin-old-names": (CIFAR_LIKE, "bin", True),
    "plain-f32": (NO_MID_ATTENTION, "F32", False),
}

SCHEDULER = {"_class_name": "DDPMScheduler", "num_train_timesteps": 1000, "beta_schedule": "linear", "beta_start": 0.0001,
             "beta_end": 0.02, "prediction_type": "epsilon", "variance_type": "fixed_large", "clip_sample": True}


def main():
    for name, (config, fmt, old_names) in CASES.items():
        torch.manual_seed(7)
        model = UNet2DModel(config).eval()
        with torch.no_grad():  # give the norms some spread so a wrong affine shows
            for n, p in model.named_parameters():
                if "norm" in n:
                    p.add_(torch.randn_like(p) * 0.1)
        d = os.path.join(OUT, name)
        save_pretrained(model, d, fmt, old_names)
        with open(os.path.join(d, "scheduler_config.json"), "w") as f:
            json.dump(SCHEDULER, f, indent=2)
        if fmt in ("F16", "BF16"):
            with torch.no_grad():
                for p in model.parameters():
                    p.copy_(p.to(SAFETENSORS_DTYPES[fmt]).float())
        b, s, c = 2, config["sample_size"], config["in_channels"]
        x = torch.randn(b, c, s, s)
        t = torch.tensor([3, 871])
        labels = torch.tensor([4, 1]) if config.get("num_class_embeds") else None
        with torch.no_grad():
            y = model(x, t, labels)
        io = {"x": x.permute(0, 2, 3, 1).reshape(-1).tolist(), "shape": [b, s, s, c], "t": t.tolist(),
              "labels": labels.tolist() if labels is not None else None, "y": y.permute(0, 2, 3, 1).reshape(-1).tolist(),
              "numParams": sum(p.numel() for p in model.parameters())}
        with open(os.path.join(d, "io.json"), "w") as f:
            json.dump(io, f)
        print(name, io["numParams"], "params", float(y.abs().max()))


# google/ddpm-cifar10-32's config.json (the DDPM paper's CIFAR-10 model)
CIFAR10 = {
    "sample_size": 32, "in_channels": 3, "out_channels": 3, "block_out_channels": [128, 256, 256, 256], "layers_per_block": 2,
    "down_block_types": ["DownBlock2D", "AttnDownBlock2D", "DownBlock2D", "DownBlock2D"],
    "up_block_types": ["UpBlock2D", "UpBlock2D", "AttnUpBlock2D", "UpBlock2D"], "downsample_padding": 0, "flip_sin_to_cos": False,
    "freq_shift": 1, "norm_eps": 1e-6, "norm_num_groups": 32, "attention_head_dim": None, "mid_block_scale_factor": 1,
}


def cifar10(out: str) -> None:
    import numpy as np
    torch.manual_seed(0)
    model = UNet2DModel(CIFAR10).eval()
    save_pretrained(model, os.path.join(out, "safetensors"), "F32")
    save_pretrained(model, os.path.join(out, "bin-old-names"), "bin", old_attention_names=True)
    for d in ("safetensors", "bin-old-names"):
        with open(os.path.join(out, d, "scheduler_config.json"), "w") as f:
            json.dump({**SCHEDULER, "variance_type": "fixed_large"}, f)
    x = torch.randn(2, 3, 32, 32)
    t = torch.tensor([10, 700])
    with torch.no_grad():
        y = model(x, t)
    np.save(os.path.join(out, "x.npy"), x.numpy())
    np.save(os.path.join(out, "t.npy"), t.numpy())
    np.save(os.path.join(out, "eps.npy"), y.numpy())
    print("cifar10 layout:", sum(p.numel() for p in model.parameters()), "params; |eps| max", float(y.abs().max()))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--cifar10":
        cifar10(sys.argv[2])
    else:
        main()
