"""PyTorch's guided step of the text-conditioned U-Net (text_unet.py, the page's twin): one
forward pass at batch 2 — the prompt and the empty prompt, as classifier-free guidance batches them —
with the prompt encoded once beforehand, as the page does. For `npm run bench`'s side-by-side figure:

  /usr/bin/python3 tools/torch/bench_text.py --config '<model.json unet config>' --runs 10 --threads 2
prints one JSON line: {"stepMs": median, "params": …, "torch": version, "threads": …}.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from text_unet import TextUNet, TextUNetConfig  # noqa: E402
from timing import median_ms  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--config", required=True, help="the text U-Net's config (kind 'text-unet') as JSON")
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    cfg = TextUNetConfig.from_json(json.loads(a.config))
    model = TextUNet(cfg).eval()
    s, c, n = cfg.imageSize, cfg.inChannels, cfg.text.maxTokens
    # "<start> a small 4 …" and the empty prompt, "<start>" alone; <pad> (0) after the words
    ids = torch.zeros(2, n, dtype=torch.long)
    ids[:, 0] = 1
    ids[0, 1:8] = torch.arange(2, 9)
    x = torch.randn(2, c, s, s)
    t = torch.full((2,), 500)
    with torch.no_grad():
        encoded = model.encode(ids)
    step_ms = median_ms(lambda: model(x, t, None, encoded=encoded), a.warmup, a.runs)
    print(json.dumps({"stepMs": step_ms, "params": sum(q.numel() for q in model.parameters()),
                      "torch": torch.__version__, "threads": a.threads}))


if __name__ == "__main__":
    main()
