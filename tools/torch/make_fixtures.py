"""Parity fixtures: random-weight U-Nets, inputs, and the PyTorch outputs the tfjs U-Net must reproduce
(for a conditional one also sample.py's guided ε, which the app's guidedNoise must reproduce); and
reverse steps of sample.py's DDPM sampler, which the tfjs DDPMScheduler must reproduce.

  /usr/bin/python3 tools/torch/make_fixtures.py   # writes tests/fixtures/parity/<name>/{model.json,weights.bin,io.json}
                                                  # and tests/fixtures/parity/ddpm-step.json

Committed, so the parity test (tests/unit/parity.test.ts) needs no Python.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from sample import DDPMStep, guided_eps  # noqa: E402
from tfjs_format import write_tfjs_model  # noqa: E402
from loop import linear_alphas_cumprod  # noqa: E402
from text_unet import TextConfig, TextUNet, TextUNetConfig  # noqa: E402
from unet import UNet, UNetConfig  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "parity")

CASES = {
    # the shipped model's architecture, narrower (same layers and shapes but widths)
    "mnist-like": UNetConfig(imageSize=28, inChannels=1, baseChannels=8, channelMults=[1, 2, 4], numResBlocks=1,
                             attention=False, numClasses=10, groups=4),
    # every optional part: attention, stride-2 conv downsampling, two blocks per level, RGB, no classes
    "rgb-attention": UNetConfig(imageSize=16, inChannels=3, baseChannels=8, channelMults=[1, 2], numResBlocks=2,
                                attention=True, dropout=0.1, numClasses=0, groups=4, downsample="conv"),
}

GUIDED_T, GUIDANCE = 417, 1.5  # the page's default guidance (src/pipeline/defaults.ts)


def main():
    torch.manual_seed(1234)
    for name, cfg in CASES.items():
        model = UNet(cfg).eval()
        with torch.no_grad():  # conv_out starts at zero; give it weights so the output is not trivially 0
            model.conv_out.weight.normal_(0, 0.05)
            model.conv_out.bias.normal_(0, 0.05)
            for n, p in model.named_parameters():
                if "norm" in n:
                    p.add_(torch.randn_like(p) * 0.1)
        b = 3
        x = torch.randn(b, cfg.inChannels, cfg.imageSize, cfg.imageSize)
        t = torch.tensor([0, 417, 999])
        labels = torch.tensor([3, 10, 7]) if cfg.numClasses else None
        with torch.no_grad():
            y = model(x, t, labels)
        d = os.path.join(OUT, name)
        write_tfjs_model(model, {"numTrainTimesteps": 1000, "betaSchedule": "linear", "predictionType": "epsilon"}, d)
        io = {
            "x": x.permute(0, 2, 3, 1).reshape(-1).tolist(),  # NHWC
            "shape": [b, cfg.imageSize, cfg.imageSize, cfg.inChannels],
            "t": t.tolist(),
            "labels": labels.tolist() if labels is not None else None,
            "y": y.permute(0, 2, 3, 1).reshape(-1).tolist(),
            "numParams": sum(p.numel() for p in model.parameters()),
        }
        if labels is not None:  # classifier-free guidance as sample.py applies it, at one t for the whole batch
            with torch.no_grad():
                guided = guided_eps(model, x, GUIDED_T, labels, GUIDANCE, cfg.numClasses)
            io["guided"] = {"t": GUIDED_T, "guidance": GUIDANCE, "y": guided.permute(0, 2, 3, 1).reshape(-1).tolist()}
        with open(os.path.join(d, "io.json"), "w") as f:
            json.dump(io, f)
        print(name, io["numParams"], "params", float(y.abs().max()))
    text_model()
    ddpm_steps()


def text_model():
    """The text-conditioned U-Net, narrow: two levels, cross-attention at both and in the middle (two heads at
    16 channels), self-attention, a two-layer encoder; prompts of different lengths (padding masked) and the
    empty one; also the attention maps (mean over heads and layers, each upsampled bilinearly to the image)."""
    torch.manual_seed(4321)
    vocab = ["<pad>", "<start>", "3", "7", "a", "in", "left", "small", "the", "top"]
    cfg = TextUNetConfig(text=TextConfig(vocabulary=vocab, maxTokens=8, dim=16, layers=2, heads=2), imageSize=16, inChannels=1,
                         baseChannels=8, channelMults=[1, 2], numResBlocks=1, crossAttentionLevels=[0, 1], headChannels=8,
                         attention=True, groups=4)
    model = TextUNet(cfg).eval()
    with torch.no_grad():
        model.conv_out.weight.normal_(0, 0.05)
        model.conv_out.bias.normal_(0, 0.05)
        for n, p in model.named_parameters():
            if "norm" in n:
                p.add_(torch.randn_like(p) * 0.1)
    ids = torch.tensor([[1, 4, 7, 2, 5, 8, 9, 6], [1, 3, 0, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0, 0]])  # "a small 3 in the top left", "7", ""
    b = ids.shape[0]
    x = torch.randn(b, 1, cfg.imageSize, cfg.imageSize)
    t = torch.tensor([5, 500, 990])
    maps = []
    with torch.no_grad():
        y = model(x, t, ids, maps=maps)
        up = [F.interpolate(m.permute(0, 3, 1, 2), size=(cfg.imageSize, cfg.imageSize), mode="bilinear", align_corners=False) for m in maps]
        mean_map = torch.stack(up).mean(0).permute(0, 2, 3, 1)  # [B, H, W, L]
    d = os.path.join(OUT, "text")
    write_tfjs_model(model, {"numTrainTimesteps": 1000, "betaSchedule": "linear", "predictionType": "epsilon"}, d)
    io = {
        "x": x.permute(0, 2, 3, 1).reshape(-1).tolist(),
        "shape": [b, cfg.imageSize, cfg.imageSize, 1],
        "t": t.tolist(),
        "labels": None,
        "ids": ids.tolist(),
        "y": y.permute(0, 2, 3, 1).reshape(-1).tolist(),
        "maps": mean_map.reshape(-1).tolist(),
        "numParams": sum(p.numel() for p in model.parameters()),
    }
    with open(os.path.join(d, "io.json"), "w") as f:
        json.dump(io, f)
    print("text", io["numParams"], "params", float(y.abs().max()), "maps", len(maps))


def ddpm_steps():
    """x_{t-1} from sample.py's DDPMStep for given x_t, ε and z, at timesteps from T-1 to 0."""
    gen = torch.Generator().manual_seed(99)
    step = DDPMStep(linear_alphas_cumprod(1000))
    cases = []
    for t in [999, 487, 10, 1, 0]:
        x = torch.randn(16, generator=gen) * 1.5  # wide enough that some x̂0 are clipped
        eps = torch.randn(16, generator=gen)
        z = torch.randn(16, generator=gen)
        cases.append({"t": t, "x": x.tolist(), "eps": eps.tolist(), "z": z.tolist(),
                      "prev": step(eps.double(), t, x.double(), z.double()).tolist()})
    with open(os.path.join(OUT, "ddpm-step.json"), "w") as f:
        json.dump({"schedule": {"numTrainTimesteps": 1000, "betaSchedule": "linear"}, "cases": cases}, f)
    print("ddpm-step", len(cases), "cases")


if __name__ == "__main__":
    main()
