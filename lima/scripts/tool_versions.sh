#!/usr/bin/env bash
# Prints the versions of the disk tools the builder uses, for manifests and the doctor:
#   @@ATLAS result tool NAME VERSION      (VERSION is "missing" when the tool is not installed)
source "$(dirname "${BASH_SOURCE[0]}")/atlas-common.sh"

v() { # v NAME COMMAND...
  local name=$1 out
  shift
  if command -v "$1" >/dev/null 2>&1; then
    out=$("$@" 2>&1 | grep -oE '[0-9]+\.[0-9]+(\.[0-9]+)?' | head -n 1 || true)
    atlas_result tool "$name ${out:-unknown}"
  else
    atlas_result tool "$name missing"
  fi
}
v partclone partclone.ext4 --version
v e2fsprogs e2fsck -V
v util-linux sfdisk --version
v pigz pigz --version
v igzip igzip --version
v mtools mtype --version
v dosfstools mkfs.vfat --help
v xz xz --version
v zstd zstd --version
