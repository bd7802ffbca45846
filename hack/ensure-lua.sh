#!/usr/bin/env bash
# Makes sure Debian's `lua5.4` is on PATH for the Argo CD health-check tests (test/unit/argocd/):
# Argo CD runs those scripts with gopher-lua (Lua 5.1 syntax), and what we write there is the common
# subset that lua5.4 runs alike. Installs the package when missing; does nothing when it is there.
set -euo pipefail

log() { printf '[vigil] %s\n' "$*" >&2; }

if command -v lua5.4 >/dev/null 2>&1; then
  log "lua5.4 present: $(command -v lua5.4) ($(lua5.4 -v 2>&1 | head -n1))"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  log "lua5.4 is missing and apt-get is not available; install Lua 5.4 by hand"
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    log "lua5.4 is missing and installing it needs root (no sudo found)"
    exit 1
  fi
fi
start=$(date +%s)
log "lua5.4 missing: installing Debian package lua5.4 (apt-get update; apt-get install lua5.4)"
# Wait for a dpkg lock held by another apt run (ensure-promtool may be installing) instead of failing.
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends lua5.4 >/dev/null
log "installed $(command -v lua5.4) ($(lua5.4 -v 2>&1 | head -n1)) in $(($(date +%s) - start))s"
