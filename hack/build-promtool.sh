#!/usr/bin/env bash
# Builds promtool from github.com/prometheus/prometheus at the version of the Prometheus image
# Vigil deploys (desired/stack/images.ts), into $VIGIL_CACHE/promtool-<version>-<go>/promtool. Needed by
# the render tests because Debian's promtool (hack/ensure-promtool.sh) is built without Kubernetes
# service discovery and rejects every kubernetes_sd_configs block. Cached.
source "$(dirname "$0")/lib.sh"
PROMETHEUS_VERSION="3.5.0"
go_tool promtool "$PROMETHEUS_VERSION" promtool promtool github.com/prometheus/prometheus/cmd/promtool \
  "github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION" "cold: 3-8 min on 2 cores"
