#!/usr/bin/env bash
# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
# Installs node_modules from the committed lockfile, only when they are
# missing or the lockfile changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f node_modules/.lock-sha ] && [ "$(cat node_modules/.lock-sha)" = "$want" ]; then
    exit 0
fi
echo "[miniprogram] npm ci (lockfile changed or node_modules missing)" >&2
npm ci --no-audit --no-fund --loglevel=error
echo "$want" > node_modules/.lock-sha
