#!/usr/bin/env bash
# Reads facts from a card's root file system, offline and read-only (mount -o ro,noload).
# Used by verify (the pre-shrink checklist) and inspect (which phase an image is in).
# PROBES is a file of tab-separated lines:  ID  KIND  PATH  [PATTERN]
#   KIND stat     the entry itself, not followed: type, mode, uid, size, link target, and the
#                 content (base64) of a regular file of at most 4 KiB
#   KIND count    entries directly in directory PATH whose name matches the glob PATTERN
#   KIND count-r  files anywhere below PATH whose name matches PATTERN
# Each probe answers with one line:  @@ATLAS fact ID key=value ...
# Symlinks are never followed out of the card: paths are looked up under the mount point only.
# usage: probe_root.sh CARD PROBES
source "$(dirname "${BASH_SOURCE[0]}")/atlas-common.sh"

[ $# -eq 2 ] || atlas_fail usage "usage: probe_root.sh CARD PROBES"
card=$1 probes=$2
atlas_check_card "$card"
atlas_check_path probes "$probes"
[ -f "$probes" ] || atlas_fail not-found "no probe list: $probes"
atlas_require_root
atlas_require_tools partx losetup blkid mount find stat base64

atlas_part_geometry "$card" 2
[ $(((PART_START + PART_SECTORS) * 512)) -le "$(atlas_card_bytes "$card")" ] || atlas_fail bad-input "$card is truncated (partition 2 ends past its end)"
atlas_attach root "$card" "$PART_START" "$PART_SECTORS" ro
[ "$(atlas_fstype "$root")" = ext4 ] || atlas_fail unsupported "partition 2 is not ext4: no Armbian root file system to check"
atlas_mount mnt "$root" ro

while IFS=$'\t' read -r id kind path pattern; do
  [ -n "$id" ] || continue
  case "$id" in *[!A-Za-z0-9_.-]*) atlas_fail bad-input "bad probe id: $id" ;; esac
  case "$path" in
    /*) ;;
    *) atlas_fail bad-input "probe $id: path must be absolute: $path" ;;
  esac
  case "/$path/" in */../*) atlas_fail bad-input "probe $id: path must not contain ..: $path" ;; esac
  p="$mnt$path"
  case "$kind" in
    stat)
      if [ ! -e "$p" ] && [ ! -L "$p" ]; then
        atlas_event fact "$id" exists=0
        continue
      fi
      type=$(stat -c %F "$p")
      case "$type" in
        "regular file" | "regular empty file") t=file ;;
        directory) t=dir ;;
        "symbolic link") t=symlink ;;
        *) t=other ;;
      esac
      line="exists=1 type=$t mode=$(stat -c %a "$p") uid=$(stat -c %u "$p") size=$(stat -c %s "$p")"
      if [ "$t" = symlink ]; then
        line="$line target=$(printf '%s' "$(readlink "$p")" | base64 -w0)"
      elif [ "$t" = file ] && [ "$(stat -c %s "$p")" -le 4096 ]; then
        line="$line content=$(base64 -w0 <"$p")"
      fi
      atlas_event fact "$id" $line
      ;;
    count | count-r)
      [ -n "$pattern" ] || pattern='*'
      if [ ! -d "$p" ] || [ -L "$p" ]; then
        atlas_event fact "$id" exists=0 count=0
        continue
      fi
      if [ "$kind" = count ]; then
        n=$(find "$p" -mindepth 1 -maxdepth 1 -name "$pattern" -printf . | wc -c)
      else
        n=$(find "$p" -mindepth 1 -type f -name "$pattern" -printf . | wc -c)
      fi
      atlas_event fact "$id" exists=1 count="$n"
      ;;
    *) atlas_fail bad-input "probe $id: unknown kind $kind" ;;
  esac
done <"$probes"
