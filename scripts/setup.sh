#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine (or the lab's Linux build box) for Atlas Imager:
# the disk tools the builder scripts use, the npm packages, and the build.
# usage: sudo bash scripts/setup.sh        (apt-get needs root; npm runs as the invoking user)
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  partclone pigz isal dosfstools mtools fdisk parted e2fsprogs util-linux mount
  xz-utils zstd zerofree openssl coreutils findutils bmap-tools chromium
  # npm run lint checks the builder scripts, which run as root.
  shellcheck
  # The tests' real builder VM (test/vm): a debootstrapped Debian guest in QEMU, reached over ssh.
  qemu-system-x86 qemu-utils debootstrap openssh-client iproute2
)

if command -v apt-get >/dev/null 2>&1; then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "installing ${missing[*]} needs root: run sudo bash scripts/setup.sh" >&2
      exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
elif [ "$(uname)" = Darwin ]; then
  echo "macOS: the disk tools run in the atlas-build Lima VM (brew install lima)."
fi

# Electron's install step downloads its binary. A Mac needs it to run the app; a Linux build box
# or CI runs the CLI and the tests, which do not.
if [ "$(uname)" != Darwin ]; then export ELECTRON_SKIP_BINARY_DOWNLOAD=1; fi
npm ci --no-audit --no-fund
npm run build
echo "Atlas Imager is set up: npx ods-sd --help"
