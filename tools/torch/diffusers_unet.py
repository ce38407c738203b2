"""A PyTorch twin of diffusers' UNet2DModel (the format of the DDPM paper's published models, e.g.
google/ddpm-cifar10-32, google/ddpm-cat-256), written from diffusers' documented architecture with
diffusers' parameter names, so its state_dict is a diffusers checkpoint. diffusers itself is not
installable here; this module is what the project's tests and benchmarks hold the tfjs loader against
(tests/unit/diffusers.test.ts through tools/torch/make_diffusers_fixtures.py).

Covered: block types DownBlock2D, AttnDownBlock2D, UpBlock2D, AttnUpBlock2D; UNetMidBlock2D (resnet,
attention, resnet; add_attention); positional time embedding (flip_sin_to_cos, freq_shift);
class-conditional models (num_class_embeds, class_embed_type null); downsample_padding 0 or 1;
attention_head_dim null (one head) or a head width; center_input_sample; norm_eps, norm_num_groups.

save_pretrained(model, config, dir, fmt) writes config.json and diffusion_pytorch_model.safetensors
(F32, F16 or BF16, by the project's own safetensors writer) or diffusion_pytorch_model.bin
(torch.save); old_attention_names renames to_q/to_k/to_v/to_out.0 to the query/key/value/proj_attn
that older hub checkpoints use. load_pretrained(dir) reads such a folder's safetensors back.
"""
import json
import math
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULT_CONFIG = {
    "_class_name": "UNet2DModel",
    "sample_size": 32,
    "in_channels": 3,
    "out_channels": 3,
    "center_input_sample": False,
    "time_embedding_type": "positional",
    "freq_shift": 0,
    "flip_sin_to_cos": True,
    "down_block_types": ["DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"],
    "up_block_types": ["AttnUpBlock2D", "AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D"],
    "block_out_channels": [224, 448, 672, 896],
    "layers_per_block": 2,
    "mid_block_scale_factor": 1,
    "downsample_padding": 1,
    "downsample_type": "conv",
    "upsample_type": "conv",
    "dropout": 0.0,
    "act_fn": "silu",
    "attention_head_dim": 8,
    "norm_num_groups": 32,
    "norm_eps": 1e-5,
    "resnet_time_scale_shift": "default",
    "add_attention": True,
    "class_embed_type": None,
    "num_class_embeds": None,
}


def timestep_embedding(t: torch.Tensor, dim: int, flip_sin_to_cos: bool, freq_shift: float) -> torch.Tensor:
    """diffusers' get_timestep_embedding: exp(−ln(10000)·i/(half − shift)), [sin, cos] (or [cos, sin])."""
    half = dim // 2
    exponent = -math.log(10000) * torch.arange(half, dtype=torch.float32) / (half - freq_shift)
    emb = t[:, None].float() * torch.exp(exponent)[None, :]
    emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=-1)
    if flip_sin_to_cos:
        emb = torch.cat([emb[:, half:], emb[:, :half]], dim=-1)
    return emb


class TimestepEmbedding(nn.Module):
    def __init__(self, cin: int, dim: int):
        super().__init__()
        self.linear_1 = nn.Linear(cin, dim)
        self.linear_2 = nn.Linear(dim, dim)

    def forward(self, x):
        return self.linear_2(F.silu(self.linear_1(x)))


class ResnetBlock2D(nn.Module):
    def __init__(self, cin: int, cout: int, temb: int, groups: int, eps: float, dropout: float, scale: float = 1.0):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=eps)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb, cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps=eps)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None
        self.scale = scale

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        if self.conv_shortcut is not None:
            x = self.conv_shortcut(x)
        return (x + h) / self.scale


class Attention(nn.Module):
    """Self-attention over the H·W positions with a GroupNorm in front and a residual (diffusers' Attention, _from_deprecated_attn_block)."""

    def __init__(self, ch: int, head_dim: int, groups: int, eps: float, scale: float = 1.0):
        super().__init__()
        self.heads = ch // head_dim
        self.group_norm = nn.GroupNorm(groups, ch, eps=eps)
        self.to_q = nn.Linear(ch, ch)
        self.to_k = nn.Linear(ch, ch)
        self.to_v = nn.Linear(ch, ch)
        self.to_out = nn.ModuleList([nn.Linear(ch, ch), nn.Dropout(0.0)])
        self.scale = scale

    def forward(self, x):
        b, c, h, w = x.shape
        tokens = self.group_norm(x).view(b, c, h * w).transpose(1, 2)  # [B, N, C]
        split = lambda v: v.view(b, h * w, self.heads, c // self.heads).transpose(1, 2)  # noqa: E731 [B, heads, N, d]
        q, k, v = split(self.to_q(tokens)), split(self.to_k(tokens)), split(self.to_v(tokens))
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(c // self.heads), dim=-1)
        out = (att @ v).transpose(1, 2).reshape(b, h * w, c)
        out = self.to_out[1](self.to_out[0](out)).transpose(1, 2).view(b, c, h, w)
        return (out + x) / self.scale


class Downsample2D(nn.Module):
    def __init__(self, ch: int, padding: int):
        super().__init__()
        self.padding = padding
        self.conv = nn.Conv2d(ch, ch, 3, stride=2, padding=padding)

    def forward(self, x):
        if self.padding == 0:
            x = F.pad(x, (0, 1, 0, 1))
        return self.conv(x)


class Upsample2D(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class DownBlock(nn.Module):
    def __init__(self, kind: str, layers: int, cin: int, cout: int, temb: int, c: dict, add_downsample: bool):
        super().__init__()
        groups, eps = c["norm_num_groups"], c["norm_eps"]
        self.resnets = nn.ModuleList([ResnetBlock2D(cin if i == 0 else cout, cout, temb, groups, eps, c["dropout"]) for i in range(layers)])
        if kind == "AttnDownBlock2D":
            head = c["attention_head_dim"] or cout
            self.attentions = nn.ModuleList([Attention(cout, head, groups, eps) for _ in range(layers)])
        else:
            self.attentions = None
        self.downsamplers = nn.ModuleList([Downsample2D(cout, c["downsample_padding"])]) if add_downsample else None

    def forward(self, x, temb):
        states = []
        for i, resnet in enumerate(self.resnets):
            x = resnet(x, temb)
            if self.attentions is not None:
                x = self.attentions[i](x)
            states.append(x)
        if self.downsamplers is not None:
            x = self.downsamplers[0](x)
            states.append(x)
        return x, states


class UpBlock(nn.Module):
    def __init__(self, kind: str, layers: int, cin: int, prev: int, cout: int, temb: int, c: dict, add_upsample: bool):
        super().__init__()
        groups, eps = c["norm_num_groups"], c["norm_eps"]
        self.resnets = nn.ModuleList()
        for i in range(layers):
            skip = cin if i == layers - 1 else cout
            self.resnets.append(ResnetBlock2D((prev if i == 0 else cout) + skip, cout, temb, groups, eps, c["dropout"]))
        if kind == "AttnUpBlock2D":
            head = c["attention_head_dim"] or cout
            self.attentions = nn.ModuleList([Attention(cout, head, groups, eps) for _ in range(layers)])
        else:
            self.attentions = None
        self.upsamplers = nn.ModuleList([Upsample2D(cout)]) if add_upsample else None

    def forward(self, x, skips, temb):
        for i, resnet in enumerate(self.resnets):
            x = resnet(torch.cat([x, skips.pop()], dim=1), temb)
            if self.attentions is not None:
                x = self.attentions[i](x)
        if self.upsamplers is not None:
            x = self.upsamplers[0](x)
        return x


class MidBlock(nn.Module):
    def __init__(self, ch: int, temb: int, c: dict):
        super().__init__()
        groups, eps, scale = c["norm_num_groups"], c["norm_eps"], c["mid_block_scale_factor"]
        self.resnets = nn.ModuleList([ResnetBlock2D(ch, ch, temb, groups, eps, c["dropout"], scale) for _ in range(2)])
        head = c["attention_head_dim"] or ch
        self.attentions = nn.ModuleList([Attention(ch, head, groups, eps, scale)]) if c["add_attention"] else None

    def forward(self, x, temb):
        x = self.resnets[0](x, temb)
        if self.attentions is not None:
            x = self.attentions[0](x)
        return self.resnets[1](x, temb)


class UNet2DModel(nn.Module):
    def __init__(self, config: dict):
        super().__init__()
        c = {**DEFAULT_CONFIG, **config}
        self.config = c
        ch = c["block_out_channels"]
        temb = 4 * ch[0]
        self.conv_in = nn.Conv2d(c["in_channels"], ch[0], 3, padding=1)
        self.time_embedding = TimestepEmbedding(ch[0], temb)
        self.class_embedding = nn.Embedding(c["num_class_embeds"], temb) if c["num_class_embeds"] else None
        self.down_blocks = nn.ModuleList()
        out = ch[0]
        for i, kind in enumerate(c["down_block_types"]):
            cin, out = out, ch[i]
            self.down_blocks.append(DownBlock(kind, c["layers_per_block"], cin, out, temb, c, i < len(ch) - 1))
        self.up_blocks = nn.ModuleList()
        rev = list(reversed(ch))
        out = rev[0]
        for i, kind in enumerate(c["up_block_types"]):
            prev, out = out, rev[i]
            cin = rev[min(i + 1, len(ch) - 1)]
            self.up_blocks.append(UpBlock(kind, c["layers_per_block"] + 1, cin, prev, out, temb, c, i < len(ch) - 1))
        self.mid_block = MidBlock(ch[-1], temb, c)
        self.conv_norm_out = nn.GroupNorm(c["norm_num_groups"], ch[0], eps=c["norm_eps"])
        self.conv_out = nn.Conv2d(ch[0], c["out_channels"], 3, padding=1)

    def forward(self, x, t, class_labels=None):
        c = self.config
        if c["center_input_sample"]:
            x = 2 * x - 1.0
        emb = self.time_embedding(timestep_embedding(t, c["block_out_channels"][0], c["flip_sin_to_cos"], c["freq_shift"]))
        if self.class_embedding is not None:
            emb = emb + self.class_embedding(class_labels)
        x = self.conv_in(x)
        skips = [x]
        for block in self.down_blocks:
            x, states = block(x, emb)
            skips += states
        x = self.mid_block(x, emb)
        for block in self.up_blocks:
            x = block(x, skips, emb)
        return self.conv_out(F.silu(self.conv_norm_out(x)))


OLD_NAMES = {".to_q.": ".query.", ".to_k.": ".key.", ".to_v.": ".value.", ".to_out.0.": ".proj_attn."}


def state_dict(model: UNet2DModel, old_attention_names: bool = False) -> dict:
    sd = model.state_dict()
    if not old_attention_names:
        return sd
    renamed = {}
    for name, v in sd.items():
        for new, old in OLD_NAMES.items():
            name = name.replace(new, old)
        renamed[name] = v
    return renamed


SAFETENSORS_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def write_safetensors(tensors: dict, path: str, dtype: str = "F32") -> None:
    """safetensors: an 8-byte little-endian header length, a JSON header (name → dtype, shape,
    data_offsets), then the raw little-endian bytes, in header order."""
    header, blobs, offset = {}, [], 0
    for name, v in tensors.items():
        t = v.detach().to(SAFETENSORS_DTYPES[dtype]).contiguous()
        raw = t.view(torch.int16).numpy().tobytes() if dtype == "BF16" else t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def read_safetensors(path: str) -> dict:
    """write_safetensors' inverse: name → float32 tensor (F32, F16 or BF16 in the file)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        body = f.read()
    tensors = {}
    for name, h in header.items():
        if name == "__metadata__":
            continue
        start, end = h["data_offsets"]
        raw = bytearray(body[start:end])
        if h["dtype"] == "BF16":
            t = torch.frombuffer(raw, dtype=torch.int16).view(torch.bfloat16)
        else:
            t = torch.frombuffer(raw, dtype=SAFETENSORS_DTYPES[h["dtype"]])
        tensors[name] = t.float().reshape(h["shape"])
    return tensors


def load_pretrained(out_dir: str) -> UNet2DModel:
    """A folder save_pretrained wrote (safetensors): the model of its config.json with its weights."""
    with open(os.path.join(out_dir, "config.json")) as f:
        model = UNet2DModel(json.load(f))
    model.load_state_dict(read_safetensors(os.path.join(out_dir, "diffusion_pytorch_model.safetensors")))
    return model


def save_pretrained(model: UNet2DModel, out_dir: str, fmt: str = "F32", old_attention_names: bool = False) -> None:
    """A diffusers model folder: config.json + diffusion_pytorch_model.safetensors (fmt F32/F16/BF16) or .bin (fmt 'bin')."""
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(model.config, f, indent=2)
    sd = state_dict(model, old_attention_names)
    if fmt == "bin":
        torch.save(sd, os.path.join(out_dir, "diffusion_pytorch_model.bin"))
    else:
        write_safetensors(sd, os.path.join(out_dir, "diffusion_pytorch_model.safetensors"), fmt)
