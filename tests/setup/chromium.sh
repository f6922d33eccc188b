#!/usr/bin/env bash
# Debian's Chromium for the report's browser test (tests/cluster/report.rs); a no-op when present.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if [[ $(id -u) -eq 0 ]]; then SUDO=""; else SUDO="sudo"; fi
$SUDO apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y --no-install-recommends chromium >/dev/null; }
chromium --version
