#!/usr/bin/env bash
# Reads facts from a card's root file system, offline and read-only (mount -o ro,noload).
# Used by verify (the pre-shrink checklist) and inspect (which phase an image is in).
# PROBES is a file of tab-separated lines:  ID  KIND  PATH  [PATTERN]
#   KIND stat       the entry itself, not followed: type, mode, uid, size, link target; what it
#                   resolves to in the image (resolved, base64; ftype of a link: file, dir,
#                   other, missing, loop), and the content (base64) of a file of at most 4 KiB
#   KIND count      entries directly in directory PATH whose name matches the glob PATTERN
#   KIND count-r    files anywhere below PATH whose name matches PATTERN
#   KIND count-npm  packages in node_modules folder PATH, as npm counts them
# Each probe answers with one line:  @@ATLAS fact ID key=value ...  (error=loop: the path runs
# into a symlink loop). Every path is resolved as the card's own root would resolve it
# (atlas_img_path): a symlink never leads out of the card, and the mount follows none itself.
# usage: probe_root.sh CARD PROBES
# shellcheck disable=SC2154 # boot, root, mnt, …: assigned by name (atlas_attach, atlas_mount, atlas_img_path, read -r)
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

# ftype: what a symlink leads to inside the image (file, dir, other, missing, loop).
kind_of() { # kind_of HOSTPATH (not followed)
  if [ -L "$1" ]; then echo symlink
  elif [ -f "$1" ]; then echo file
  elif [ -d "$1" ]; then echo dir
  elif [ -e "$1" ]; then echo other
  else echo missing
  fi
}

while IFS=$'\t' read -r id kind path pattern; do
  [ -n "$id" ] || continue
  case "$id" in *[!A-Za-z0-9_.-]*) atlas_fail bad-input "bad probe id: $id" ;; esac
  case "$path" in
    /*) ;;
    *) atlas_fail bad-input "probe $id: path must be absolute: $path" ;;
  esac
  case "/$path/" in */../*) atlas_fail bad-input "probe $id: path must not contain ..: $path" ;; esac
  # Every path is resolved inside the image (see atlas_img_path); one that cannot resolve (a
  # symlink loop) is reported as such, never looked up on the host.
  if ! atlas_img_walk entry "$mnt" "$path" nofollow; then
    atlas_event fact "$id" exists=0 error=loop
    continue
  fi
  p="$mnt$entry"
  case "$kind" in
    stat)
      t=$(kind_of "$p")
      if [ "$t" = missing ]; then
        atlas_event fact "$id" exists=0
        continue
      fi
      line="exists=1 type=$t mode=$(stat -c %a "$p") uid=$(stat -c %u "$p") size=$(stat -c %s "$p")"
      followed=$p ft=$t
      if atlas_img_walk full "$mnt" "$path" follow; then
        followed="$mnt$full"
        line="$line resolved=$(printf '%s' "$full" | base64 -w0)"
        [ "$t" = symlink ] && ft=$(kind_of "$followed")
      else
        ft=loop
      fi
      if [ "$t" = symlink ]; then
        line="$line target=$(printf '%s' "$(readlink "$p")" | base64 -w0) ftype=$ft"
      fi
      if [ "$ft" = file ] && [ "$(stat -c %s "$followed")" -le 4096 ]; then
        line="$line content=$(base64 -w0 <"$followed")"
      fi
      atlas_event fact "$id" $line
      ;;
    count | count-r | count-npm)
      [ -n "$pattern" ] || pattern='*'
      if ! atlas_img_walk full "$mnt" "$path" follow; then
        atlas_event fact "$id" exists=0 count=0 error=loop
        continue
      fi
      d="$mnt$full"
      if [ ! -d "$d" ]; then
        atlas_event fact "$id" exists=0 count=0
        continue
      fi
      case "$kind" in
        count) n=$(find "$d" -mindepth 1 -maxdepth 1 -name "$pattern" -printf . | wc -c) ;;
        count-r) n=$(find "$d" -mindepth 1 -type f -name "$pattern" -printf . | wc -c) ;;
        count-npm)
          # As npm counts installed packages: no dot entries (.bin, .package-lock.json), and a
          # scope folder @scope counts each package in it.
          n=$(find "$d" -mindepth 1 -maxdepth 1 -name "$pattern" ! -name '.*' ! -name '@*' -printf . | wc -c)
          while IFS= read -r -d '' scope; do
            n=$((n + $(find "$scope" -mindepth 1 -maxdepth 1 ! -name '.*' -printf . | wc -c)))
          done < <(find "$d" -mindepth 1 -maxdepth 1 -type d -name '@*' -print0)
          ;;
      esac
      atlas_event fact "$id" exists=1 count="$n"
      ;;
    *) atlas_fail bad-input "probe $id: unknown kind $kind" ;;
  esac
done <"$probes"
