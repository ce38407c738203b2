"""The colour prior's data: Google's Noto emoji from the npm package emoji-datasource-google
(16.0.0; images Apache-2.0, the package's LICENSE is copied beside the data), as 32×32 RGB pictures
labelled by the package's category, with a fixed tenth held out for evaluation. With --style
twitter, the same emoji in a style the prior never saw — Twitter's Twemoji (emoji-datasource-twitter
16.0.0; graphics CC-BY 4.0, © Twitter, Inc and other contributors) — for the colour bench.

  /usr/bin/python3 tools/torch/emoji_data.py [--style google|twitter] [--out tools/torch/runs/emoji] [--size 32]

The package (~70 MB) is fetched once with `npm pack` into --out (nothing is added to package.json:
only training the prior and the colour bench need it). Every emoji with a Google image is used, with
its skin-tone variants, except the category 'Component' (skin-tone swatches, hair parts): 3,781
pictures in 9 categories. A picture is drawn over black and shrunk with a box filter, as the page
decodes an upload (src/data/decode.ts: drawn over black; transparency is black).

Held out: every emoji whose base code point sequence (`unified`, e.g. '1F600'; a skin-tone variant
follows its base, so no held-out face leaks in another tone) hashes to 0 mod 10 by SHA-1 — about a
tenth, the same on every machine. Their code points are written to held_out.txt.

Writes to --out: emoji-<size>.npz (images uint8 [N, size, size, 3], labels int64 [N] in
categories.txt's order, held_out bool [N], unified str [N]), categories.txt, held_out.txt, LICENSE.
"""
import argparse
import glob
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile

import numpy as np
from PIL import Image

VERSION = "16.0.0"
CATEGORIES = [
    "Smileys & Emotion",
    "People & Body",
    "Animals & Nature",
    "Food & Drink",
    "Travel & Places",
    "Activities",
    "Objects",
    "Symbols",
    "Flags",
]


def held_out(unified: str) -> bool:
    """The fixed tenth kept out of training, by the base emoji's code points."""
    return int(hashlib.sha1(unified.upper().encode()).hexdigest(), 16) % 10 == 0


def fetch(out: str, style: str) -> str:
    """The style's package tarball in `out`, fetched with npm pack unless it is there already."""
    pattern = os.path.join(out, f"emoji-datasource-{style}-*.tgz")
    found = glob.glob(pattern)
    if found:
        return found[0]
    subprocess.run(["npm", "pack", f"emoji-datasource-{style}@{VERSION}", "--pack-destination", out], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return glob.glob(pattern)[0]


def picture(png: bytes, size: int) -> np.ndarray:
    """A 64×64 RGBA emoji drawn over black, shrunk to size×size RGB."""
    rgba = Image.open(io.BytesIO(png)).convert("RGBA")
    black = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
    rgb = Image.alpha_composite(black, rgba).convert("RGB")
    return np.asarray(rgb.resize((size, size), Image.BOX), dtype=np.uint8)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--style", default="google", choices=["google", "twitter"])
    p.add_argument("--out", default="", help="default: tools/torch/runs/emoji (google), tools/torch/runs/emoji-twitter")
    p.add_argument("--size", type=int, default=32)
    a = p.parse_args()
    a.out = a.out or ("tools/torch/runs/emoji" if a.style == "google" else f"tools/torch/runs/emoji-{a.style}")
    os.makedirs(a.out, exist_ok=True)
    tgz = fetch(a.out, a.style)
    with tarfile.open(tgz) as tar:
        files = {m.name: m for m in tar.getmembers() if m.isfile()}
        read = lambda name: tar.extractfile(files[f"package/{name}"]).read()  # noqa: E731
        emoji = json.loads(read("emoji.json"))
        with open(os.path.join(a.out, "LICENSE"), "wb") as f:
            f.write(read("LICENSE"))
        images, labels, held, unified = [], [], [], []
        for e in sorted(emoji, key=lambda e: e["sort_order"]):
            if not e.get(f"has_img_{a.style}") or e["category"] not in CATEGORIES:
                continue
            variants = [e] + [v for v in (e.get("skin_variations") or {}).values() if v.get(f"has_img_{a.style}")]
            for v in variants:
                images.append(picture(read(f"img/{a.style}/64/{v['image']}"), a.size))
                labels.append(CATEGORIES.index(e["category"]))
                held.append(held_out(e["unified"]))
                unified.append(v["unified"])
    out = os.path.join(a.out, f"emoji-{a.size}.npz")
    np.savez_compressed(out, images=np.stack(images), labels=np.array(labels, dtype=np.int64),
                        held_out=np.array(held), unified=np.array(unified))
    with open(os.path.join(a.out, "categories.txt"), "w") as f:
        f.write("\n".join(CATEGORIES) + "\n")
    with open(os.path.join(a.out, "held_out.txt"), "w") as f:
        f.write("\n".join(u for u, h in zip(unified, held) if h) + "\n")
    counts = np.bincount(labels, minlength=len(CATEGORIES))
    print(f"{len(images)} pictures ({sum(held)} held out) in {len(CATEGORIES)} categories → {out}")
    print("  " + ", ".join(f"{c} {n}" for c, n in zip(CATEGORIES, counts)))


if __name__ == "__main__":
    main()
