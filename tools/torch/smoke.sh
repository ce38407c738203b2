#!/usr/bin/env bash
# A CPU smoke test of tools/torch/train.py: a few steps in one process, then the data-parallel path in
# two processes (DistributedDataParallel over gloo), then a resume. Needs PyTorch; CI does not run it.
#   bash tools/torch/smoke.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/usr/bin/python3}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
common=(--device cpu --batch 8 --threads 1 --resume-from '' --ckpt-every 2)

echo "== 1 process"
"$PY" tools/torch/train.py "${common[@]}" --steps 4 --out "$dir/one.pt"

echo "== 2 processes (DDP, gloo)"
# the environment torchrun gives each process; torchrun itself works too where its launcher does
# (Debian's PyTorch 1.13 launcher fails under Python 3.11 before starting any process)
launch() {
  for r in 0 1; do MASTER_ADDR=127.0.0.1 MASTER_PORT=${PORT:-29517} WORLD_SIZE=2 RANK=$r LOCAL_RANK=$r "$PY" tools/torch/train.py "$@" & done
  wait
}
launch "${common[@]}" --steps 4 --out "$dir/two.pt"
echo "== 2 processes, resumed to step 6"
launch "${common[@]}" --steps 6 --out "$dir/two.pt"
"$PY" - "$dir/two.pt" <<'PYEOF'
import sys, torch
ck = torch.load(sys.argv[1])
assert ck["step"] == 6, ck["step"]
print(f"checkpoint at step {ck['step']}: ok")
PYEOF

echo "== a shipped diffusers folder read back, and the schedule of a run that continues it"
"$PY" - "$dir" <<'PYEOF'
import math, os, sys
from types import SimpleNamespace
import torch
sys.path.insert(0, "tools/torch")
from diffusers_unet import load_pretrained, save_pretrained
from loop import lr_at_step
model = load_pretrained("public/models/emoji")
save_pretrained(model, os.path.join(sys.argv[1], "emoji"), "F16")
again = load_pretrained(os.path.join(sys.argv[1], "emoji"))
assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values())), "F16 round trip changed a weight"
a = SimpleNamespace(lr=5e-4, min_lr=5e-5, warmup=500, steps=13000)
assert lr_at_step(a, 0) == 5e-4 / 500 and lr_at_step(a, 499) == 5e-4 and abs(lr_at_step(a, 13000) - 5e-5) < 1e-12
b = SimpleNamespace(lr=2e-4, min_lr=2e-5, warmup=100, steps=21000)
assert abs(lr_at_step(b, 13000, 13000) - 2e-6) < 1e-12 and abs(lr_at_step(b, 13099, 13000) - 2e-4) < 1e-12
mid = 13100 + (21000 - 13100) // 2
assert abs(lr_at_step(b, mid, 13000) - (2e-5 + 0.5 * 1.8e-4 * (1 + math.cos(math.pi * 0.5)))) < 1e-9
print(f"emoji folder: {sum(v.numel() for v in model.state_dict().values())} weights read back; schedules: ok")
PYEOF
