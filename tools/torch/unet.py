"""PyTorch mirror of src/model/unet.ts — same layers, same order, same weight names.

Used only to train the shipped default model fast on a CPU (tools/torch/train.py), to
produce parity fixtures (tools/torch/make_fixtures.py) and to time the same network on a CPU or a
CUDA GPU (tools/torch/bench.py; it runs on the device of its inputs); the app never needs Python.
Weights are exported to the tfjs layout by export.py:
  conv  torch [out, in, kh, kw] -> tfjs [kh, kw, in, out]
  dense torch [out, in]         -> tfjs [in, out]
"""
import math
from dataclasses import dataclass, field, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class UNetConfig:
    imageSize: int = 28
    inChannels: int = 1
    baseChannels: int = 32
    channelMults: list = field(default_factory=lambda: [1, 2, 4])
    numResBlocks: int = 1
    attention: bool = False
    dropout: float = 0.0
    numClasses: int = 0
    groups: int = 8
    downsample: str = "avgpool"

    def to_json(self):
        return asdict(self)


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Transformer sinusoidal embedding as in DDPM (Ho et al. 2020, appendix B):
    freq_i = exp(-ln(10000) * i / (half - 1)), emb = [sin(t * freq), cos(t * freq)]."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / (half - 1))
    args = t.float()[:, None] * freqs[None, :]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


class GroupNorm(nn.GroupNorm):
    def __init__(self, groups, ch):
        super().__init__(min(groups, ch), ch, eps=1e-5)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, emb_dim, groups, dropout):
        super().__init__()
        self.norm1 = GroupNorm(groups, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.emb = nn.Linear(emb_dim, cout)
        self.norm2 = GroupNorm(groups, cout)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, emb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.emb(F.silu(emb))[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return h + (self.skip(x) if self.skip is not None else x)


class Attention(nn.Module):
    """Single-head self-attention over the H*W positions (DDPM uses it at 16x16)."""

    def __init__(self, ch, groups):
        super().__init__()
        self.norm = GroupNorm(groups, ch)
        self.qkv = nn.Linear(ch, 3 * ch)
        self.proj = nn.Linear(ch, ch)

    def forward(self, x):
        b, c, h, w = x.shape
        tokens = self.norm(x).permute(0, 2, 3, 1).reshape(b, h * w, c)
        q, k, v = self.qkv(tokens).chunk(3, dim=2)
        att = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(c), dim=2)
        out = self.proj(att @ v).reshape(b, h, w, c).permute(0, 3, 1, 2)
        return x + out


class Downsample(nn.Module):
    def __init__(self, ch, mode):
        super().__init__()
        self.mode = mode
        self.conv = nn.Conv2d(ch, ch, 3, stride=2, padding=1) if mode == "conv" else None

    def forward(self, x):
        return self.conv(x) if self.conv is not None else F.avg_pool2d(x, 2)


class Upsample(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class UNet(nn.Module):
    def __init__(self, cfg: UNetConfig):
        super().__init__()
        self.cfg = cfg
        base, g = cfg.baseChannels, cfg.groups
        emb_dim = 4 * base
        self.time_mlp1 = nn.Linear(base, emb_dim)
        self.time_mlp2 = nn.Linear(emb_dim, emb_dim)
        self.label_emb = nn.Embedding(cfg.numClasses + 1, emb_dim) if cfg.numClasses > 0 else None
        self.conv_in = nn.Conv2d(cfg.inChannels, base, 3, padding=1)

        widths = [base * m for m in cfg.channelMults]
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        ch = base
        skip_chs = []
        for i, w in enumerate(widths):
            blocks = nn.ModuleList()
            for _ in range(cfg.numResBlocks):
                blocks.append(ResBlock(ch, w, emb_dim, g, cfg.dropout))
                ch = w
                skip_chs.append(ch)
            self.down.append(blocks)
            if i < len(widths) - 1:
                self.downsample.append(Downsample(ch, cfg.downsample))
        self.mid1 = ResBlock(ch, ch, emb_dim, g, cfg.dropout)
        self.mid_attn = Attention(ch, g) if cfg.attention else None
        self.mid2 = ResBlock(ch, ch, emb_dim, g, cfg.dropout)

        self.up = nn.ModuleList()
        self.upsample = nn.ModuleList()
        for i in reversed(range(len(widths))):
            blocks = nn.ModuleList()
            for _ in range(cfg.numResBlocks):
                blocks.append(ResBlock(ch + skip_chs.pop(), widths[i], emb_dim, g, cfg.dropout))
                ch = widths[i]
            self.up.append(blocks)
            if i > 0:
                self.upsample.append(Upsample(ch))
        self.norm_out = GroupNorm(g, ch)
        self.conv_out = nn.Conv2d(ch, cfg.inChannels, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    def forward(self, x, t, label=None):
        emb = self.time_mlp2(F.silu(self.time_mlp1(timestep_embedding(t, self.cfg.baseChannels))))
        if self.label_emb is not None:
            if label is None:
                label = torch.full((x.shape[0],), self.cfg.numClasses, dtype=torch.long, device=x.device)
            emb = emb + self.label_emb(label)
        h = self.conv_in(x)
        skips = []
        for i, blocks in enumerate(self.down):
            for block in blocks:
                h = block(h, emb)
                skips.append(h)
            if i < len(self.downsample):
                h = self.downsample[i](h)
        h = self.mid1(h, emb)
        if self.mid_attn is not None:
            h = self.mid_attn(h)
        h = self.mid2(h, emb)
        for i, blocks in enumerate(self.up):
            for block in blocks:
                h = block(torch.cat([h, skips.pop()], dim=1), emb)
            if i < len(self.upsample):
                h = self.upsample[i](h)
        return self.conv_out(F.silu(self.norm_out(h)))


def tfjs_weights(model: nn.Module):
    """Named float32 arrays in the tfjs layout, in state_dict order; names match src/model/unet.ts.
    Conv weights OIHW → HWIO and linear [out, in] → [in, out]; embedding tables stay [rows, dim]."""
    linear = {f"{n}.weight" for n, m in model.named_modules() if isinstance(m, nn.Linear)}
    out = []
    for name, p in model.state_dict().items():
        a = p.detach().float().cpu().numpy()
        if a.ndim == 4:
            a = a.transpose(2, 3, 1, 0)
        elif name in linear:
            a = a.transpose(1, 0)
        out.append((name, a))
    return out
