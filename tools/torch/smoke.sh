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
