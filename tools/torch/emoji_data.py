"""The colour prior's data: Google's Noto emoji from the npm package emoji-datasource-google
(16.0.0; images Apache-2.0, the package's LICENSE is copied beside the data), as 32×32 RGB pictures
labelled by the package's category, with a fixed tenth held out for evaluation. For the colour
bench, two styles the prior never saw:
- --style twitter: the same emoji in Twitter's Twemoji (emoji-datasource-twitter 16.0.0; graphics
  CC-BY 4.0, © Twitter, Inc and other contributors);
- --style openmoji: OpenMoji's line-art emoji (the npm package openmoji 17.0.0, colour SVGs,
  CC-BY-SA 4.0, © OpenMoji and its authors), rasterised here at 64×64 with CairoSVG (Debian's
  python3-cairosvg) and then treated as the PNG styles are. Its groups are the same nine categories;
  its own extras are left out.

  /usr/bin/python3 tools/torch/emoji_data.py [--style google|twitter|openmoji] [--out tools/torch/runs/emoji] [--size 32]

The package (~70 MB) is fetched once with `npm pack` into --out (nothing is added to package.json:
only training the prior and the colour bench need it). Every emoji with a Google image is used, with
its skin-tone variants, except the category 'Component' (skin-tone swatches, hair parts): 3,781
pictures in 9 categories. A picture is drawn over black and shrunk with a box filter, as the page
decodes an upload (src/data/decode.ts: drawn over black; transparency is black).

Held out: every emoji whose base code point sequence (`unified`, e.g. '1F600'; a skin-tone variant
follows its base, so no held-out face leaks in another tone) hashes to 0 mod 10 by SHA-1 — about a
tenth, the same on every machine. Their code points are written to held_out.txt. OpenMoji writes its
code points without the FE0F selectors the Google package's `unified` may carry, so its emoji are
held out by the Google package's spelling of the same emoji: the same tenth, in another style.

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


GOOGLE_OUT = "tools/torch/runs/emoji"  # where the Google style (the prior's data) is written
OPENMOJI_VERSION = "17.0.0"
# OpenMoji's groups, in CATEGORIES' order
OPENMOJI_GROUPS = ["smileys-emotion", "people-body", "animals-nature", "food-drink", "travel-places",
                   "activities", "objects", "symbols", "flags"]


def fetch(out: str, package: str, version: str) -> str:
    """The package's tarball in `out`, fetched with npm pack unless it is there already."""
    pattern = os.path.join(out, f"{package}-*.tgz")
    found = glob.glob(pattern)
    if found:
        return found[0]
    os.makedirs(out, exist_ok=True)
    subprocess.run(["npm", "pack", f"{package}@{version}", "--pack-destination", out], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return glob.glob(pattern)[0]


class Package:
    """A package tarball's files, by their path inside the package."""

    def __init__(self, tgz: str):
        self.tar = tarfile.open(tgz)
        self.files = {m.name: m for m in self.tar.getmembers() if m.isfile()}

    def read(self, name: str) -> bytes:
        return self.tar.extractfile(self.files[f"package/{name}"]).read()


def datasource(style: str, out: str):
    """(64×64 PNG, category, base unified, unified) for every emoji with an image in an
    emoji-datasource style, skin-tone variants after their base, and the package's licence."""
    pkg = Package(fetch(out, f"emoji-datasource-{style}", VERSION))
    emoji = json.loads(pkg.read("emoji.json"))

    def pictures():
        for e in sorted(emoji, key=lambda e: e["sort_order"]):
            if not e.get(f"has_img_{style}") or e["category"] not in CATEGORIES:
                continue
            variants = [e] + [v for v in (e.get("skin_variations") or {}).values() if v.get(f"has_img_{style}")]
            for v in variants:
                yield pkg.read(f"img/{style}/64/{v['image']}"), e["category"], e["unified"], v["unified"]

    return pictures(), pkg.read("LICENSE")


def openmoji(out: str):
    """(64×64 PNG, category, base unified, unified) for OpenMoji's emoji in the nine categories,
    rasterised from its colour SVGs, and its licence. `base unified` is the Google package's
    spelling, so that the held-out tenth is the same emoji as the other styles'."""
    import cairosvg  # Debian's python3-cairosvg; only this style needs it

    pkg = Package(fetch(out, "openmoji", OPENMOJI_VERSION))
    google = Package(fetch(GOOGLE_OUT, "emoji-datasource-google", VERSION))
    spelling = {e["unified"].replace("-FE0F", ""): e["unified"] for e in json.loads(google.read("emoji.json"))}
    emoji = json.loads(pkg.read("data/openmoji.json"))

    def pictures():
        for e in sorted((e for e in emoji if e["group"] in OPENMOJI_GROUPS), key=lambda e: e["order"]):  # extras have no order
            base = e["skintone_base_hexcode"] or e["hexcode"]
            png = cairosvg.svg2png(bytestring=pkg.read(f"color/svg/{e['hexcode']}.svg"), output_width=64, output_height=64)
            yield png, CATEGORIES[OPENMOJI_GROUPS.index(e["group"])], spelling.get(base, base), e["hexcode"]

    return pictures(), pkg.read("LICENSE.txt")


def picture(png: bytes, size: int) -> np.ndarray:
    """A 64×64 RGBA emoji drawn over black, shrunk to size×size RGB."""
    rgba = Image.open(io.BytesIO(png)).convert("RGBA")
    black = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
    rgb = Image.alpha_composite(black, rgba).convert("RGB")
    return np.asarray(rgb.resize((size, size), Image.BOX), dtype=np.uint8)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--style", default="google", choices=["google", "twitter", "openmoji"])
    p.add_argument("--out", default="", help="default: tools/torch/runs/emoji (google), tools/torch/runs/emoji-<style>")
    p.add_argument("--size", type=int, default=32)
    a = p.parse_args()
    a.out = a.out or (GOOGLE_OUT if a.style == "google" else f"{GOOGLE_OUT}-{a.style}")
    os.makedirs(a.out, exist_ok=True)
    pictures, licence = openmoji(a.out) if a.style == "openmoji" else datasource(a.style, a.out)
    with open(os.path.join(a.out, "LICENSE"), "wb") as f:
        f.write(licence)
    images, labels, held, unified = [], [], [], []
    for png, category, base, code in pictures:
        images.append(picture(png, a.size))
        labels.append(CATEGORIES.index(category))
        held.append(held_out(base))
        unified.append(code)
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
