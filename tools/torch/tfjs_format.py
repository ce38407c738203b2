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
