#!/usr/bin/env bash
# Makes sure `promtool` is on PATH for the SLO tests. Installs Debian's prometheus package (which
# ships promtool) when it is missing; does nothing when promtool is already there.
set -euo pipefail

log() { printf '[vigil] %s\n' "$*" >&2; }

if command -v promtool >/dev/null 2>&1; then
  log "promtool present: $(command -v promtool) ($(promtool --version 2>&1 | head -n1))"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  log "promtool is missing and apt-get is not available; install promtool (prometheus >= 2.42) by hand"
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    log "promtool is missing and installing it needs root (no sudo found)"
    exit 1
  fi
fi

start=$(date +%s)
log "promtool missing: installing Debian package prometheus (apt-get update; apt-get install prometheus)"
# Wait for a dpkg lock held by another apt run instead of failing at once.
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends prometheus >/dev/null
# The package's postinst may start a prometheus service where an init system runs; the tests only
# need the binaries.
log "installed $(command -v promtool) ($(promtool --version 2>&1 | head -n1)) in $(($(date +%s) - start))s"
