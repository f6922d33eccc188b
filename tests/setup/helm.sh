#!/usr/bin/env bash
# Helm's chart linter for tests/deploy.rs where no `helm` binary is installed: the helm library
# (Go, built as a C shared library) from the helm-sdkpy 0.1.32 wheel on PyPI, unpacked once into
# ~/.cache/tacefusion-helm and driven by tests/setup/helm_lint.py through ctypes.
set -euo pipefail
if command -v helm >/dev/null 2>&1; then
    exit 0
fi
DEST="${TACEFUSION_HELM_DIR:-$HOME/.cache/tacefusion-helm}"
if [[ -s "$DEST/libhelm_sdkpy.so" ]]; then
    exit 0
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 helm-sdkpy==0.1.32 -d "$TMP"
python3 -m zipfile -e "$TMP"/helm_sdkpy-0.1.32-*.whl "$TMP/wheel"
mkdir -p "$DEST"
cp "$TMP/wheel/helm_sdkpy/_lib/linux-amd64/libhelm_sdkpy.so" "$DEST/"
echo "helm library in $DEST"
