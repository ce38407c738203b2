"""Writes a U-Net in the tfjs format src/model/io.ts reads: model.json + weights.bin.

model.json = { format, generatedBy, modelTopology: { unet, diffusion }, weightsManifest, userDefinedMetadata }
as tf.io.http / tf.io.browserFiles / IndexedDB expect (tfjs weights manifest, float32, little-endian).
"""
import json
import os

import numpy as np

from unet import UNet, tfjs_weights

FORMAT = "ddpm-playground-unet"


def write_tfjs_model(model: UNet, diffusion: dict, out_dir: str, metadata: dict | None = None) -> None:
    os.makedirs(out_dir, exist_ok=True)
    specs, blobs = [], []
    for name, a in tfjs_weights(model):
        a = np.ascontiguousarray(a, dtype="<f4")
        specs.append({"name": name, "shape": list(a.shape), "dtype": "float32"})
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
