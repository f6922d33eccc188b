#!/usr/bin/env bash
# An S3-compatible server for the object-store tests: moto's standalone server (moto[server]) in its
# own Python environment, $MOTO_VENV (default ~/.cache/tacefusion/moto). Idempotent; about 1.5 min
# the first time. The test finds it there (or at $TACEFUSION_MOTO_SERVER) and says so when absent.
set -euo pipefail
VENV=${MOTO_VENV:-$HOME/.cache/tacefusion/moto}
if [[ -x $VENV/bin/moto_server && -f $VENV/.complete ]]; then echo "$VENV"; exit 0; fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q "moto[server]==5.2.5"
touch "$VENV/.complete"
echo "$VENV"
