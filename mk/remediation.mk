# RemediationPolicy (docs/remediation.md). The integration tests run a real Alertmanager (built from
# Go modules by hack/build-alertmanager.sh, cached; about 3 min cold on 2 cores, already a unit-test
# prerequisite) and Debian's Prometheus (hack/ensure-promtool.sh installs the package): make sure both
# are there when the integration tests run on their own too.
test-integration: ensure-alertmanager ensure-promtool
