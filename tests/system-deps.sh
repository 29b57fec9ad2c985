#!/usr/bin/env bash
# System tools the tests use to look at what users see: pdftoppm (page crops) and headless
# Chromium (audit/site screenshots). Installed from Debian's packages when missing and when we
# may (root with apt-get); says what it installs and why before doing it, and says which tests
# will skip when it cannot.
set -u
need=()
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0
why="poppler-utils: pdftoppm renders PDF pages for the crop tests; chromium: headless screenshots of the audit page and site"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: installing ${need[*]} with apt-get (${why})" >&2
  if (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}") >/dev/null 2>&1; then
    exit 0
  fi
  echo "system-deps: could not install ${need[*]}; the tests that need them will skip (pytest -rs lists them)" >&2
else
  echo "system-deps: ${need[*]} missing and not root with apt-get: the tests that need them will skip (${why})" >&2
fi
exit 0
