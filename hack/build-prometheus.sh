#!/usr/bin/env bash
# Builds the Prometheus server from github.com/prometheus/prometheus at the version of the image Vigil
# deploys (desired/stack/images.ts), into $VIGIL_CACHE/prometheus-<version>-<go>/prometheus, from the
# same module list as promtool (hack/tools/promtool). Without the web UI's assets (the builtinassets
# tag is off): the tests use the API only. Used by the tests that run the rendered Prometheus
# configuration (scrape credentials, the HA pair behind Thanos). Cached.
source "$(dirname "$0")/lib.sh"
PROMETHEUS_VERSION="3.5.0"
go_tool prometheus "$PROMETHEUS_VERSION" promtool prometheus github.com/prometheus/prometheus/cmd/prometheus \
  "github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION" "cold: 2-6 min on 2 cores after promtool"
