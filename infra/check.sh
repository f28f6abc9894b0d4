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
#     webhook URL by the same script the container runs
# A missing tool (promtool, amtool): its checks print NOT RUN naming it; in CI
# (the CI variable set, e.g. CI=true) that makes the script fail (exit 1, naming
# every missing tool), elsewhere it exits 0 when every check that ran passed.
# The dashboards, Loki/Promtail/Alloy files and the live evaluation against a
# real Prometheus are checked by `cargo test -p logops-e2e --test observability`.
#
# Usage: infra/check.sh   (from anywhere; exits non-zero on the first failure)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
docker_dir="$here/docker"
prom_dir="$docker_dir/prometheus"

is_ci() {
    case "${CI:-}" in
        "" | false | FALSE | False | 0 | no | NO) return 1 ;;
        *) return 0 ;;
    esac
}

not_run=()
# missing TOOL PACKAGE WHAT: a NOT RUN line now; in CI a failure at the end.
missing() {
    echo "   NOT RUN $3: $1 not found (apt-get install $2)" >&2
    not_run+=("$1 ($2)")
}

echo "== promtool checks"
if command -v promtool >/dev/null 2>&1; then
    echo "== $(promtool --version 2>&1 | head -n 1)"

    echo "== promtool check config prometheus.yml"
    promtool check config "$prom_dir/prometheus.yml"

    echo "== promtool check rules alert_rules.yml"
    promtool check rules "$prom_dir/alert_rules.yml"

    echo "== promtool test rules alert_rules_test.yml"
    # Relative rule_files in the test file resolve against the working directory.
    (cd "$prom_dir" && promtool test rules alert_rules_test.yml)
else
    missing promtool prometheus "promtool check config, check rules and test rules"
fi

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
    missing amtool prometheus-alertmanager "amtool check-config"
fi

if [ ${#not_run[@]} -eq 0 ]; then
    echo "infra/check.sh: all checks passed"
elif is_ci; then
    echo "infra/check.sh: error: missing in CI (CI=${CI}): ${not_run[*]}; those checks did not run" >&2
    exit 1
else
    echo "infra/check.sh: the checks that ran passed; NOT RUN those needing: ${not_run[*]} (with CI=true this is an error)"
fi
