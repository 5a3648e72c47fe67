#!/usr/bin/env bash
# Installs whatever of parley's Debian packages is missing; idempotent: a
# second run installs nothing and says so.
set -euo pipefail

PACKAGES=(
  # build
  gcc meson ninja-build pkg-config clang-format
  libevent-dev libexpat1-dev libssl-dev libsqlite3-dev libidn11-dev
  libhttp-parser-dev libwslay-dev
  libstrophe-dev libnice-dev libsrtp2-dev libjansson-dev
  # runtime helpers (certificate generation, sqlite shell for operators)
  openssl sqlite3
  # tests: real XMPP clients
  python3 python3-slixmpp sendxmpp
  # tests: a real WebRTC peer, network namespaces
  python3-aiortc iproute2
  # tests: a real browser (driven by playwright-core from npm)
  chromium
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PACKAGES[@]} packages already installed, nothing to install"
else
  echo "deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Node.js for the browser-side clients the tests use (strophe.js, stanza,
# playwright-core). A machine that already has node and npm keeps them.
if ! command -v npm >/dev/null 2>&1; then
  echo "deps: installing nodejs and npm"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
fi

# npm packages of tests/, from its lock file; only when the lock changed.
here=$(cd "$(dirname "$0")/.." && pwd)
lock="$here/tests/package-lock.json"
stamp="$here/tests/node_modules/.package-lock.json"
if [ -f "$lock" ]; then
  if [ ! -f "$stamp" ] || [ "$lock" -nt "$stamp" ]; then
    echo "deps: installing npm packages for tests/"
    (cd "$here/tests" && npm ci --no-audit --no-fund --loglevel=error)
  else
    echo "deps: npm packages for tests/ up to date, nothing to install"
  fi
fi
