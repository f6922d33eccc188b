#!/usr/bin/env bash
# GPU check of the CT network, in two halves because the GPU machine reaches no registry:
#
#   benches/gpu.sh build   # here: builds the training benchmark with --features cuda, strips it
#                          # into benches/gpu-bin/ (git-ignored; carry it to the device)
#   benches/gpu.sh run     # on the GPU machine: burn 0.21 on CUDA vs PyTorch eager (present
#                          # there) on the same crops, batch size and GPU; results under $OUT
#
# Sizes: the default network of the `paper` preset (crop 2x24^3, width 8, depth 3), batch 32;
# then a larger crop (2x32^3, width 16) where the GPU has work to do. Each line of
# $OUT/training.txt is a row for benches/RESULTS.md. Then the single-cell scoring on CUDA against
# the CPU's f64 (worker/tests/biology.rs `cuda_scores_match_the_cpu`, within 1e-5) and the devices a
# GPU worker offers (`cuda_devices_are_offered`): $OUT/omics.txt.
# Both stripped binaries must fit the 64 MiB the device tool carries.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
build)
    export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/tacefusion/target}
    # --workspace with the root's `cuda` feature (the bench's CUDA path; it turns on the worker's):
    # the workspace's feature set, so the dependencies of `cargo build --workspace --features
    # tacefusion/cuda` are reused instead of rebuilt (~20 min)
    bin=$(cargo bench --workspace --bench training --features tacefusion/cuda --no-run --message-format=json 2>/dev/null |
        python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "training" and m.get("executable"):
        print(m["executable"])' | tail -1)
    mkdir -p benches/gpu-bin
    cp "$bin" benches/gpu-bin/training
    strip benches/gpu-bin/training
    test=$(cargo test --workspace --release --features tacefusion/cuda --test biology --no-run --message-format=json 2>/dev/null |
        python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "biology" and m.get("executable"):
        print(m["executable"])' | tail -1)
    cp "$test" benches/gpu-bin/biology
    strip benches/gpu-bin/biology
    ls -l benches/gpu-bin/
    ;;
run)
    OUT=${OUT:-$(mktemp -d)}
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
    export TACEFUSION_BENCH_DEVICE=cuda TORCH_PYTHON=${TORCH_PYTHON:-$(command -v python3)}
    for sizes in "24 8 3 32" "32 16 3 32"; do
        read -r crop width depth batch <<<"$sizes"
        BENCH_CROP=$crop BENCH_WIDTH=$width BENCH_DEPTH=$depth BENCH_BATCH=$batch BENCH_STEPS=20 \
            ./benches/gpu-bin/training 2>&1 | tee -a "$OUT/training.txt"
    done
    # the scoring check and the worker's device enumeration (both ignored tests named cuda_*)
    ./benches/gpu-bin/biology --ignored --nocapture cuda_ 2>&1 | tee "$OUT/omics.txt"
    ;;
*)
    echo "usage: benches/gpu.sh build|run" >&2
    exit 2
    ;;
esac
