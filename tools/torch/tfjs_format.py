"""Writes a U-Net in the tfjs format src/model/io.ts reads: model.json + weights.bin.

model.json = { format, generatedBy, modelTopology: { unet, diffusion }, weightsManifest, userDefinedMetadata }
as tf.io.http / tf.io.browserFiles / IndexedDB expect (tfjs weights manifest, little-endian float32 or float16).
"""
import json
import os

import numpy as np
import torch

from unet import UNet, tfjs_weights

FORMAT = "ddpm-playground-unet"


def round_to_float16(model: UNet) -> None:
    """Rounds the weights in place to what a float16 file stores, so PyTorch sees the shipped values."""
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())


def write_tfjs_model(model: UNet, diffusion: dict, out_dir: str, metadata: dict | None = None, float16: bool = False) -> None:
    """float16 halves the file (tfjs dequantises on load: manifest `quantization: {dtype: 'float16'}`)."""
    os.makedirs(out_dir, exist_ok=True)
    specs, blobs = [], []
    for name, a in tfjs_weights(model):
        spec = {"name": name, "shape": list(a.shape), "dtype": "float32"}
        if float16:
            spec["quantization"] = {"dtype": "float16", "original_dtype": "float32"}
            a = np.ascontiguousarray(a, dtype="<f2")
        else:
            a = np.ascontiguousarray(a, dtype="<f4")
        specs.append(spec)
        blobs.append(a.tobytes())
    with open(os.path.join(out_dir, "weights.bin"), "wb") as f:
        f.write(b"".join(blobs))
    doc = {
        "format": FORMAT,
        "generatedBy": "tools/torch (PyTorch mirror of src/model/unet.ts)",
        "convertedBy": None,
        "modelTopology": {"unet": model.cfg.to_json(), "diffusion": diffusion},
        "weightsManifest": [{"paths": ["weights.bin"], "weights": specs}],
        "userDefinedMetadata": metadata or {},
    }
    with open(os.path.join(out_dir, "model.json"), "w") as f:
        json.dump(doc, f, indent=1)


def read_tfjs_weights(model_dir: str) -> tuple[dict, dict]:
    """A model folder's config (modelTopology.unet) and its weights as a PyTorch state dict (the
    inverse of write_tfjs_model: float16 or float32, HWIO → OIHW, [in, out] → [out, in] for the
    names the caller's module has as nn.Linear weights — see load_tfjs_into)."""
    with open(os.path.join(model_dir, "model.json")) as f:
        doc = json.load(f)
    blob = b"".join(open(os.path.join(model_dir, p), "rb").read() for g in doc["weightsManifest"] for p in g["paths"])
    out, at = {}, 0
    for spec in (w for g in doc["weightsManifest"] for w in g["weights"]):
        n = int(np.prod(spec["shape"])) if spec["shape"] else 1
        dtype = "<f2" if spec.get("quantization", {}).get("dtype") == "float16" else "<f4"
        size = n * np.dtype(dtype).itemsize
        out[spec["name"]] = np.frombuffer(blob[at:at + size], dtype=dtype).astype(np.float32).reshape(spec["shape"])
        at += size
    return doc["modelTopology"]["unet"], out


def load_tfjs_into(model: torch.nn.Module, arrays: dict) -> None:
    """Copies read_tfjs_weights' arrays into `model`, undoing tfjs_weights' layout changes."""
    linear = {f"{n}.weight" for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)}
    state = {}
    for name, p in model.state_dict().items():
        a = arrays[name]
        if a.ndim == 4:
            a = a.transpose(3, 2, 0, 1)
        elif name in linear:
            a = a.transpose(1, 0)
        assert tuple(a.shape) == tuple(p.shape), f"{name}: {a.shape} in the file, {tuple(p.shape)} in the model"
        state[name] = torch.from_numpy(np.ascontiguousarray(a))
    model.load_state_dict(state)
