#!/usr/bin/env bash
# Installs whatever of parley's Debian packages is missing; idempotent: a
# second run installs nothing and says so.
set -euo pipefail

PACKAGES=(
  # build
  gcc meson ninja-build pkg-config clang-format
  libevent-dev libexpat1-dev libssl-dev libsqlite3-dev libidn11-dev
  # runtime helpers (certificate generation, sqlite shell for operators)
  openssl sqlite3
  # tests: real XMPP clients
  python3 python3-slixmpp sendxmpp
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PACKAGES[@]} packages already installed, nothing to install"
  exit 0
fi

echo "deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
