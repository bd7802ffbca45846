#!/usr/bin/env bash
# Builds VictoriaLogs (Apache-2.0) from Go modules (hack/tools/victorialogs/go.mod) into
# $VIGIL_CACHE/victorialogs-<version>-<go>/victoria-logs. The correlator's Loki export tests push to
# it: it accepts Loki's push API (JSON and protobuf+snappy) at /insert/loki/api/v1/push, so Loki
# itself (AGPL, never built here) is not needed (docs/adr/0010-victorialogs-stands-in-for-loki-push.md).
# Cached: does nothing when the binary exists.
source "$(dirname "$0")/lib.sh"
VICTORIALOGS_VERSION="1.52.1"
go_tool victorialogs "$VICTORIALOGS_VERSION" victorialogs victoria-logs \
  github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs \
  "github.com/VictoriaMetrics/VictoriaMetrics/lib/buildinfo.Version=victoria-logs-v$VICTORIALOGS_VERSION" "cold: 1-4 min on 2 cores"
