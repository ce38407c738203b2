"""PyTorch mirror of the text-conditioned U-Net (src/model/plans/text-unet.ts, src/model/text-encoder.ts):
same layers, same order, same parameter names.

ε_θ(x_t, t, text): a small transformer encodes the prompt's tokens (src/text/tokenizer.ts: <start>
first, <pad> after the words); its token states are the keys and values of cross-attention layers
after the residual blocks of the chosen levels and in the middle (queries from image features,
a key-padding mask hides <pad>), and its state at <start> (the pooled text), projected, is added to
the timestep embedding. An empty prompt is <start> alone: classifier-free guidance's unconditional
input. The config is the one the page reads (model.json's modelTopology.unet, kind 'text-unet').
"""
import math
from dataclasses import dataclass, field, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F

from unet import Attention, Downsample, GroupNorm, ResBlock, Upsample, timestep_embedding

PAD_ID = 0


@dataclass
class TextConfig:
    vocabulary: list
    maxTokens: int = 16
    dim: int = 64
    layers: int = 2
    heads: int = 4


@dataclass
class TextUNetConfig:
    text: TextConfig
    kind: str = "text-unet"
    imageSize: int = 48
    inChannels: int = 1
    baseChannels: int = 32
    channelMults: list = field(default_factory=lambda: [1, 2, 3])
    numResBlocks: int = 1
    crossAttentionLevels: list = field(default_factory=lambda: [1, 2])
    headChannels: int = 32
    attention: bool = False
    dropout: float = 0.0
    groups: int = 8
    downsample: str = "avgpool"

    def to_json(self):
        return asdict(self)

    @staticmethod
    def from_json(d):
        d = dict(d)
        d.pop("numClasses", None)  # the page's config says 0: a text model has no classes
        return TextUNetConfig(text=TextConfig(**d.pop("text")), **d)


class LayerNorm(nn.LayerNorm):
    def __init__(self, dim):
        super().__init__(dim, eps=1e-5)


def masked_softmax(logits, mask):
    """softmax over the last axis with masked-out keys (mask [B, L] True = a word) sent to −1e9."""
    return torch.softmax(logits + (~mask)[:, None, None, :].float() * -1e9, dim=-1)


class EncoderLayer(nn.Module):
    """Pre-norm transformer layer: x + MHA(LN(x)), then x + MLP(LN(x)) with SiLU, width 4·dim."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.norm1 = LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.norm2 = LayerNorm(dim)
        self.mlp1 = nn.Linear(dim, 4 * dim)
        self.mlp2 = nn.Linear(4 * dim, dim)

    def forward(self, x, mask):
        b, n, d = x.shape
        h = self.heads
        q, k, v = (m.reshape(b, n, h, d // h).transpose(1, 2) for m in self.qkv(self.norm1(x)).chunk(3, dim=2))
        att = masked_softmax(q @ k.transpose(2, 3) / math.sqrt(d // h), mask)  # [B, h, L, L]
        x = x + self.out((att @ v).transpose(1, 2).reshape(b, n, d))
        return x + self.mlp2(F.silu(self.mlp1(self.norm2(x))))


class TextEncoder(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.token_emb = nn.Embedding(len(cfg.vocabulary), cfg.dim)
        self.pos_emb = nn.Embedding(cfg.maxTokens, cfg.dim)
        self.layers = nn.ModuleList(EncoderLayer(cfg.dim, cfg.heads) for _ in range(cfg.layers))
        self.norm_out = LayerNorm(cfg.dim)

    def forward(self, ids):
        """ids [B, L] → token states [B, L, dim], mask [B, L] (True = a word or <start>)."""
        mask = ids != PAD_ID
        x = self.token_emb(ids) + self.pos_emb.weight[None, : ids.shape[1]]
        for layer in self.layers:
            x = layer(x, mask)
        return self.norm_out(x), mask


class CrossAttention(nn.Module):
    """x + out(softmax(q kᵀ/√d) v): q from GroupNorm(image), k and v from the text's token states."""

    def __init__(self, ch, text_dim, groups, head_channels):
        super().__init__()
        self.heads = max(1, ch // head_channels)
        self.norm = GroupNorm(groups, ch)
        self.q = nn.Linear(ch, ch)
        self.k = nn.Linear(text_dim, ch)
        self.v = nn.Linear(text_dim, ch)
        self.out = nn.Linear(ch, ch)

    def forward(self, x, text, mask, maps=None):
        b, c, hh, ww = x.shape
        h, d = self.heads, c // self.heads
        q = self.q(self.norm(x).permute(0, 2, 3, 1).reshape(b, hh * ww, c)).reshape(b, hh * ww, h, d).transpose(1, 2)
        k = self.k(text).reshape(b, -1, h, d).transpose(1, 2)
        v = self.v(text).reshape(b, -1, h, d).transpose(1, 2)
        att = masked_softmax(q @ k.transpose(2, 3) / math.sqrt(d), mask)  # [B, h, N, L]
        if maps is not None:
            maps.append(att.mean(1).reshape(b, hh, ww, -1))
        out = self.out((att @ v).transpose(1, 2).reshape(b, hh * ww, c)).reshape(b, hh, ww, c).permute(0, 3, 1, 2)
        return x + out


class TextUNet(nn.Module):
    def __init__(self, cfg: TextUNetConfig):
        super().__init__()
        self.cfg = cfg
        base, g, td = cfg.baseChannels, cfg.groups, cfg.text.dim
        emb_dim = 4 * base
        xattn = lambda ch: CrossAttention(ch, td, g, cfg.headChannels)  # noqa: E731
        self.time_mlp1 = nn.Linear(base, emb_dim)
        self.time_mlp2 = nn.Linear(emb_dim, emb_dim)
        self.text = TextEncoder(cfg.text)
        self.text_proj = nn.Linear(td, emb_dim)
        self.conv_in = nn.Conv2d(cfg.inChannels, base, 3, padding=1)

        widths = [base * m for m in cfg.channelMults]
        self.down, self.down_xattn, self.downsample = nn.ModuleList(), nn.ModuleDict(), nn.ModuleList()
        ch, skip_chs = base, []
        for i, w in enumerate(widths):
            blocks = nn.ModuleList()
            for j in range(cfg.numResBlocks):
                blocks.append(ResBlock(ch, w, emb_dim, g, cfg.dropout))
                ch = w
                if i in cfg.crossAttentionLevels:
                    self.down_xattn[f"{i}_{j}"] = xattn(ch)
                skip_chs.append(ch)
            self.down.append(blocks)
            if i < len(widths) - 1:
                self.downsample.append(Downsample(ch, cfg.downsample))
        self.mid1 = ResBlock(ch, ch, emb_dim, g, cfg.dropout)
        self.mid_attn = Attention(ch, g) if cfg.attention else None
        self.mid_xattn = xattn(ch)
        self.mid2 = ResBlock(ch, ch, emb_dim, g, cfg.dropout)

        self.up, self.up_xattn, self.upsample = nn.ModuleList(), nn.ModuleDict(), nn.ModuleList()
        for k, i in enumerate(reversed(range(len(widths)))):
            blocks = nn.ModuleList()
            for j in range(cfg.numResBlocks):
                blocks.append(ResBlock(ch + skip_chs.pop(), widths[i], emb_dim, g, cfg.dropout))
                ch = widths[i]
                if i in cfg.crossAttentionLevels:
                    self.up_xattn[f"{k}_{j}"] = xattn(ch)
            self.up.append(blocks)
            if i > 0:
                self.upsample.append(Upsample(ch))
        self.norm_out = GroupNorm(g, ch)
        self.conv_out = nn.Conv2d(ch, cfg.inChannels, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    def encode(self, ids):
        """The prompt's part of the input, computed once per prompt: (token states, mask, pooled)."""
        tokens, mask = self.text(ids)
        return tokens, mask, tokens[:, 0]

    def forward(self, x, t, ids, maps=None, encoded=None):
        """x [B, C, H, W], t [B], ids [B, L]; `maps` (a list) collects each cross-attention's [B, h, w, L] map."""
        tokens, mask, pooled = encoded if encoded is not None else self.encode(ids)
        emb = self.time_mlp2(F.silu(self.time_mlp1(timestep_embedding(t, self.cfg.baseChannels)))) + self.text_proj(pooled)
        h = self.conv_in(x)
        skips = []
        for i, blocks in enumerate(self.down):
            for j, block in enumerate(blocks):
                h = block(h, emb)
                if f"{i}_{j}" in self.down_xattn:
                    h = self.down_xattn[f"{i}_{j}"](h, tokens, mask, maps)
                skips.append(h)
            if i < len(self.downsample):
                h = self.downsample[i](h)
        h = self.mid1(h, emb)
        if self.mid_attn is not None:
            h = self.mid_attn(h)
        h = self.mid_xattn(h, tokens, mask, maps)
        h = self.mid2(h, emb)
        for k, blocks in enumerate(self.up):
            for j, block in enumerate(blocks):
                h = block(torch.cat([h, skips.pop()], dim=1), emb)
                if f"{k}_{j}" in self.up_xattn:
                    h = self.up_xattn[f"{k}_{j}"](h, tokens, mask, maps)
            if k < len(self.upsample):
                h = self.upsample[k](h)
        return self.conv_out(F.silu(self.norm_out(h)))
