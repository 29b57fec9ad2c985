#!/usr/bin/env bash
# System tools the tests use to look at what users see: pdftoppm (page crops) and headless
# Chromium (audit/site screenshots). Installed from Debian's packages when missing and when we
# may (root); tests that need them skip with a reason otherwise.
set -u
need=()
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}") >/dev/null 2>&1 \
    || echo "system-deps: could not install ${need[*]}; the tests that need them will skip" >&2
fi
exit 0
