#!/usr/bin/env bash
# Checks the Prometheus / Alertmanager files of the observability stack with the
# real tools (Debian packages `prometheus` and, optionally,
# `prometheus-alertmanager`):
#   - promtool check config  infra/docker/prometheus/prometheus.yml
#     (also loads alert_rules.yml and the file_sd target files)
#   - promtool check rules   infra/docker/prometheus/alert_rules.yml
#   - promtool test rules    infra/docker/prometheus/alert_rules_test.yml
#     (every alert fires on a bad series and stays silent on a good one; that
#     each alert has both cases is checked by the observability test)
#   - amtool check-config    on the Alertmanager template rendered with a dummy
#     webhook URL by the same script the container runs (skipped, with a
#     message, when amtool is not installed)
# The dashboards, Loki/Promtail/Alloy files and the live evaluation against a
# real Prometheus are checked by `cargo test -p logops-e2e --test observability`.
#
# Usage: infra/check.sh   (from anywhere; exits non-zero on the first failure)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
docker_dir="$here/docker"
prom_dir="$docker_dir/prometheus"

if ! command -v promtool >/dev/null 2>&1; then
    echo "infra/check.sh: promtool not found (apt-get install prometheus)" >&2
    exit 1
fi
echo "== $(promtool --version 2>&1 | head -n 1)"

echo "== promtool check config prometheus.yml"
promtool check config "$prom_dir/prometheus.yml"

echo "== promtool check rules alert_rules.yml"
promtool check rules "$prom_dir/alert_rules.yml"

echo "== promtool test rules alert_rules_test.yml"
# Relative rule_files in the test file resolve against the working directory.
(cd "$prom_dir" && promtool test rules alert_rules_test.yml)

echo "== amtool check-config (rendered alertmanager.yml.tmpl)"
if command -v amtool >/dev/null 2>&1; then
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    ALERTMANAGER_WEBHOOK_URL='https://webhook.invalid/logops?token=dummy&x=1' \
        sh "$docker_dir/alertmanager/render-config.sh" \
        "$docker_dir/alertmanager/alertmanager.yml.tmpl" "$tmp/alertmanager.yml"
    if grep -q '__ALERTMANAGER_WEBHOOK_URL__' "$tmp/alertmanager.yml"; then
        echo "render-config.sh left the placeholder in place" >&2
        exit 1
    fi
    amtool check-config "$tmp/alertmanager.yml"
else
    echo "   skipped: amtool not installed (apt-get install prometheus-alertmanager)"
fi

echo "infra/check.sh: all checks passed"
