#!/usr/bin/env bash
# The GPU check: one script, under 8 minutes, on a machine with a CUDA GPU.
#
#  1. the GPU-marked tests (tests/test_gpu.py: device handling; the compiled step and the step
#     in CUDA graphs against the eager step, Adam and L-BFGS);
#  2. the speed table on CUDA: pinnrun eager, compiled, CUDA graphs, and DeepXDE on the same GPU,
#     Burgers and NLS setups (benchmarks/peers.py --device cuda);
#  2b. with more than one GPU: one run data-parallel on all of them (torchrun, NCCL) against one
#     GPU, the strong-scaling table (benchmarks/scaling.py --device cuda);
#  3. experiment=raissi_nls at the paper's full budget (50k Adam + 50k L-BFGS) with the compiled
#     step, stopped by SIGTERM if it is not done in its share of the time (a stopped run is
#     resumable: trainer.resume=true with the same hydra.run.dir);
#  4. PINNacle's Burgers1d-C and Poisson2d-C at PINNacle's full budget (20000 steps), vanilla and
#     pinnrun's recipe side by side (benchmarks/pinnacle.py): docs/pinnacle.json comes back in
#     $OUT with the rows (carry data/pinnacle: the reference files, `python -m pinnrun.reference
#     --pinnacle` fetches them here first).
#
# Where the GPU machine has no network and no Hydra (the device machines here), prepare the
# wheels in the project root first (14 MB) and carry them:
#   ../shared/tools/gpu-wheels.sh deepxde==1.15.0 scikit-learn==1.5.2 scikit-optimize==0.10.2 \
#       pyaml==24.12.1 joblib==1.4.2 threadpoolctl==3.5.0 pytest==8.3.4 pluggy==1.5.0 \
#       iniconfig==2.0.0 packaging==24.2
#   device run, carry [".whl", "data/pinnacle"]: bash benchmarks/gpu_check.sh
# Elsewhere (pip install -e ".[test,bench]" done) it runs as is. Results go to $OUT (or
# ./gpu_check/) : gpu_check.log, raissi_nls_summary.json, raissi_nls_metrics.csv.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu_check}
mkdir -p "$out"
exec > >(tee "$out/gpu_check.log") 2>&1
export PYTHONUNBUFFERED=1
if [ -d .whl ] && ! python3 -c "import hydra" 2>/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || { echo "gpu_check: installing the carried wheels failed"; exit 1; }
  export PYTHONPATH=/tmp/site:$PWD
fi
export PYTHONPATH=${PYTHONPATH:-$PWD}
# from a plain checkout (not pip-installed), pinnrun.conf is conf/: the package maps it so
python3 -c "import pinnrun.conf" 2>/dev/null || ln -sfn ../conf pinnrun/conf
python3 - <<'EOF' || exit 1
import torch
assert torch.cuda.is_available(), "gpu_check: no CUDA device"
print("gpu_check:", torch.__version__, torch.cuda.get_device_name(), flush=True)
EOF
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
start=$SECONDS

echo "== 1. GPU tests"
timeout 150 python3 -m pytest -q -p no:cacheprovider -m gpu tests/test_gpu.py
echo "gpu tests: exit $? after $((SECONDS - start)) s"

echo "== 2. speed on CUDA"
timeout 150 python3 benchmarks/peers.py burgers nls --device cuda --steps 200 --rounds 3
echo "speed table: exit $? after $((SECONDS - start)) s"

gpus=$(python3 -c "import torch; print(torch.cuda.device_count())")
if [ "$gpus" -gt 1 ]; then
  echo "== 2b. one run on $gpus GPUs (torchrun, NCCL) against one GPU"
  timeout 150 python3 benchmarks/scaling.py --device cuda --processes 1 "$gpus" --rounds 1 --steps 600 --every 100 \
    -- equation.points.residual=400000
  echo "multi-GPU scaling: exit $? after $((SECONDS - start)) s"
else
  echo "== 2b. skipped: one GPU (the multi-GPU line runs with more than one)"
fi

echo "== 3. experiment=raissi_nls, full budget, compiled step"
left=$((270 - (SECONDS - start)))
run_dir=${TMPDIR:-/tmp}/pinnrun_gpu_check/raissi_nls
rm -rf "$run_dir"
timeout -s TERM -k 20 "$left" python3 -m pinnrun experiment=raissi_nls trainer.compile=true trainer.progress=false \
  trainer.log_every=1000 hydra.run.dir="$run_dir"
echo "raissi_nls: exit $? after $((SECONDS - start)) s"
cp "$run_dir/summary.json" "$out/raissi_nls_summary.json" 2>/dev/null
cp "$run_dir/metrics.csv" "$out/raissi_nls_metrics.csv" 2>/dev/null
python3 - "$out/raissi_nls_summary.json" <<'EOF'
import json, sys
try:
    s = json.load(open(sys.argv[1]))
except OSError:
    sys.exit("raissi_nls: no summary")
print("raissi_nls:", s["status"], "steps", s["steps"], "wall", s["wall_time_s"], "s,",
      "l2/h_abs", s["final"].get("l2/h_abs"), "(paper: 1.97e-3)", s.get("device"))
EOF

echo "== 4. PINNacle Burgers1d-C and Poisson2d-C, 20000 steps, vanilla and recipe"
timeout -s TERM -k 20 200 python3 benchmarks/pinnacle.py burgers1d_c poisson2d_c --jobs 4 --no-plots
echo "pinnacle: exit $? after $((SECONDS - start)) s"
cp docs/pinnacle.json "$out/pinnacle.json" 2>/dev/null
