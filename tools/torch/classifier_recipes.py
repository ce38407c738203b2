"""Which recipe for the emoji classifier (src/eval/classifier.ts, EMOJI_CLASSIFIER) reads the held-out
emoji better? A PyTorch twin of its training, fast enough on this CPU to try recipes side by side
(docs/colour.md, the emoji classifier). It prints, per recipe, the held-out accuracy and its mean
over categories; nothing is saved: the page's classifier is trained by `npm run eval:emoji`.

  /usr/bin/python3 tools/torch/classifier_recipes.py base --seed 1     # or bn, aug, smooth, bn-aug-60
  /usr/bin/python3 tools/torch/classifier_recipes.py base --extra tools/torch/runs/emoji-{twitter,openmoji}/emoji-32.npz
"""
import argparse
import json
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from data import load_emoji

CATEGORIES = 9


def network(widths=(32, 64, 128), bn=False):
    """EMOJI_CLASSIFIER's layers (3×3 conv + ReLU + 2×2 max-pool per width, a 128-wide feature layer,
    dropout 0.3, 9 logits); bn: two convs per level, each batch-normalised."""
    layers, cin = [], 3
    for w in widths:
        layers += [nn.Conv2d(cin, w, 3, padding=1)] + ([nn.BatchNorm2d(w)] if bn else []) + [nn.ReLU()]
        if bn:
            layers += [nn.Conv2d(w, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU()]
        layers += [nn.MaxPool2d(2)]
        cin = w
    layers += [nn.Flatten(), nn.Linear(cin * 16, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, CATEGORIES)]
    return nn.Sequential(*layers)


def augment(xb, gen, scale=0.0, rot=0.0):
    """The classifier's augmentation: whole-pixel shifts in [−2, 2]² and mirroring at random, the
    background (−1) filling in; with scale / rot, also a random zoom of ±scale and turn of ±rot°."""
    n = len(xb)
    dx = torch.randint(-2, 3, (n,), generator=gen).float() * 2 / 32  # in affine_grid's units: 2 / 32 a pixel
    dy = torch.randint(-2, 3, (n,), generator=gen).float() * 2 / 32
    s = 1 + (torch.rand(n, generator=gen) * 2 - 1) * scale
    a = (torch.rand(n, generator=gen) * 2 - 1) * rot * np.pi / 180
    m = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1], theta[:, 0, 2] = torch.cos(a) / s * m, -torch.sin(a) / s, -dx
    theta[:, 1, 0], theta[:, 1, 1], theta[:, 1, 2] = torch.sin(a) / s * m, torch.cos(a) / s, -dy
    grid = F.affine_grid(theta, list(xb.shape), align_corners=False)
    mode = "nearest" if scale == 0 and rot == 0 else "bilinear"
    return F.grid_sample(xb + 1, grid, mode=mode, padding_mode="zeros", align_corners=False) - 1


RECIPES = {
    "base": {},  # EMOJI_CLASSIFIER's: 30 epochs, Adam 1e-3 then 1e-4 for the last quarter, batch 64, categories weighted
    "bn": {"bn": True},
    "aug": {"scale": 0.15, "rot": 10},
    "smooth": {"smooth": 0.1, "tta": True},  # label smoothing, and the mirrored picture's reading averaged in
    "bn-aug-60": {"bn": True, "scale": 0.15, "rot": 10, "epochs": 60},
}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("recipe", choices=list(RECIPES))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", default="tools/torch/runs/emoji/emoji-32.npz", help="what emoji_data.py wrote")
    p.add_argument("--extra", nargs="*", default=[],
                   help="more styles' emoji-32.npz (emoji_data.py --style): their training pictures join the Noto ones")
    p.add_argument("--judge-on", nargs="*", default=[], help="more styles whose held-out emoji are read, not learnt")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    r = dict(RECIPES[args.recipe])
    epochs, smooth, tta = r.pop("epochs", 30), r.pop("smooth", 0.0), r.pop("tta", False)
    aug = {k: r.pop(k) for k in ["scale", "rot"] if k in r}

    x, y, held = load_emoji(args.data)
    x_train, y_train, x_test, y_test = x[~held], y[~held], x[held], y[held]
    tests = {}
    for path in args.extra:  # each style holds out the same emoji by code point (emoji_data.py)
        xe, ye, he = load_emoji(path)
        x_train, y_train = torch.cat([x_train, xe[~he]]), torch.cat([y_train, ye[~he]])
        tests[path] = (xe[he], ye[he])
    weight = len(y_train) / (CATEGORIES * torch.bincount(y_train, minlength=CATEGORIES).float())

    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    model = network(**r)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    t0 = time.time()
    for epoch in range(epochs):
        if epoch == int(np.ceil(0.75 * epochs)):
            opt = torch.optim.Adam(model.parameters(), 1e-4)
        model.train()
        order = torch.randperm(len(x_train), generator=gen)
        for i in range(0, len(order), 64):
            idx = order[i:i + 64]
            loss = F.cross_entropy(model(augment(x_train[idx], gen, **aug)), y_train[idx], weight=weight, label_smoothing=smooth)
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()

    def judge(xt, yt):
        """Held-out accuracy and its mean over categories."""
        with torch.no_grad():
            read = model(xt).softmax(1)
            if tta:
                read = read + model(xt.flip(3)).softmax(1)
            predicted = read.argmax(1)
        per_category = np.mean([(predicted[yt == k] == k).float().mean().item() for k in range(CATEGORIES)])
        return round((predicted == yt).float().mean().item(), 4), round(per_category, 4)

    for path in args.judge_on:
        xe, ye, he = load_emoji(path)
        tests[path] = (xe[he], ye[he])
    accuracy, per_category = judge(x_test, y_test)
    print(json.dumps({"recipe": args.recipe, "seed": args.seed, "extra": args.extra, "trainPictures": len(y_train),
                      "heldOutAccuracy": accuracy, "meanOverCategories": per_category,
                      "otherStyles": {path: judge(*t) for path, t in tests.items()},
                      "seconds": round(time.time() - t0)}))

if __name__ == "__main__":
    main()
