#!/usr/bin/env bash
# Builds node_exporter from its own Go module (github.com/prometheus/node_exporter, pinned in
# hack/tools/node-exporter/go.mod) at the version of the image the stack deploys
# (desired/stack/images.ts), into $VIGIL_CACHE/node-exporter-<version>-<go>/node_exporter. The
# cluster-metrics tests run it and scrape it with a real Prometheus. Cached.
source "$(dirname "$0")/lib.sh"
NODE_EXPORTER_VERSION="1.12.1"
go_tool node-exporter "$NODE_EXPORTER_VERSION" node-exporter node_exporter github.com/prometheus/node_exporter \
  "github.com/prometheus/common/version.Version=$NODE_EXPORTER_VERSION" "cold: 1-3 min on 2 cores"
"$(tool_dir node-exporter "$NODE_EXPORTER_VERSION")/node_exporter" --version >&2
