#!/bin/sh
# Renders the Alertmanager configuration template: replaces every
# __ALERTMANAGER_WEBHOOK_URL__ with $ALERTMANAGER_WEBHOOK_URL, literally (no
# sed/awk replacement syntax, so '&', '|' and '\' in the URL are safe).
#
# Usage: render-config.sh TEMPLATE OUTPUT
# POSIX sh + awk: runs in the busybox-based prom/alertmanager image.
set -eu

if [ "$#" -ne 2 ]; then
    echo "usage: $0 TEMPLATE OUTPUT" >&2
    exit 2
fi
if [ -z "${ALERTMANAGER_WEBHOOK_URL:-}" ]; then
    echo "render-config.sh: ALERTMANAGER_WEBHOOK_URL is not set (see infra/docker/.env.example)" >&2
    exit 1
fi
case "$ALERTMANAGER_WEBHOOK_URL" in
    http://*|https://*) ;;
    *)
        echo "render-config.sh: ALERTMANAGER_WEBHOOK_URL must start with http:// or https://" >&2
        exit 1
        ;;
esac
case "$ALERTMANAGER_WEBHOOK_URL" in
    *"'"*)
        echo "render-config.sh: ALERTMANAGER_WEBHOOK_URL must not contain a single quote" >&2
        exit 1
        ;;
esac

awk '
BEGIN { url = ENVIRON["ALERTMANAGER_WEBHOOK_URL"]; key = "__ALERTMANAGER_WEBHOOK_URL__" }
{
    out = ""
    line = $0
    while ((i = index(line, key)) > 0) {
        out = out substr(line, 1, i - 1) url
        line = substr(line, i + length(key))
    }
    print out line
}' "$1" > "$2.tmp"
mv "$2.tmp" "$2"
