#!/usr/bin/env bash
# Describes a card or image: partition table, and for each partition its file system, label,
# size and used bytes. Read-only.
#   @@ATLAS table LABEL CARD_BYTES
#   @@ATLAS part N START SECTORS TYPE FSTYPE USED_BYTES LABEL
#   @@ATLAS problem N TEXT                       a file system that cannot be read, and what to do
# (FSTYPE and LABEL are "-" when unknown; USED_BYTES is -1 when it cannot be read.)
# usage: inspect_card.sh CARD
source "$(dirname "${BASH_SOURCE[0]}")/atlas-common.sh"

[ $# -eq 1 ] || atlas_fail usage "usage: inspect_card.sh CARD"
card=$1
atlas_check_card "$card"
atlas_require_root
atlas_require_tools sfdisk partx losetup blkid dumpe2fs

problem() { atlas_event problem "$1" "${*:2}"; }

bytes=$(atlas_card_bytes "$card")
label=$(atlas_table_label "$card")
[ -n "$label" ] || atlas_fail bad-input "$card has no partition table: not an SD-card image"
atlas_event table "$label" "$bytes"
while read -r nr start sectors type; do
  if [ $(((start + sectors) * 512)) -gt "$bytes" ]; then
    atlas_event part "$nr" "$start" "$sectors" "$type" truncated -1 -
    continue
  fi
  atlas_attach dev "$card" "$start" "$sectors" ro
  fs=$(atlas_fstype "$dev")
  fslabel=$(blkid -p -o value -s LABEL "$dev" 2>/dev/null | tr -d '\n' | tr -c 'A-Za-z0-9_.-' '_' || true)
  used=-1
  case "$fs" in
    ext2 | ext3 | ext4)
      if info=$(dumpe2fs -h "$dev" 2>&1); then
        used=$(printf '%s\n' "$info" | awk -F: '
          /^Block count/ { c = $2 + 0 } /^Free blocks/ { f = $2 + 0 } /^Block size/ { s = $2 + 0 }
          END { if (s) printf "%.0f", (c - f) * s; else print -1 }')
      else
        why=$(printf '%s\n' "$info" | sed -n 's/^dumpe2fs: //p' | tail -n 1)
        problem "$nr" "the $fs file system of partition $nr is damaged (${why:-dumpe2fs cannot read it}): repair it with e2fsck -f on that partition, or restore the card from a clone set"
      fi
      ;;
    vfat)
      if command -v mdir >/dev/null 2>&1; then
        if listing=$(mdir -i "$dev" :: 2>&1); then
          free=$(printf '%s\n' "$listing" | awk '/bytes free/ { gsub(/ /, "", $0); sub(/bytesfree/, "", $0); print }')
          [ -n "$free" ] && used=$((sectors * 512 - free))
          # A card pulled without unmounting has the dirty bit set, and an old backup boot sector
          # is "mostly harmless": neither is a problem on its own.
          if command -v fsck.fat >/dev/null 2>&1 && ! check=$(fsck.fat -n "$dev" 2>&1); then
            why=$(printf '%s\n' "$check" | grep -v -i -e '^fsck.fat [0-9]' -e '^[[:space:]]*$' -e 'Leaving filesystem unchanged' \
              -e 'dirty bit' -e 'not properly unmounted' -e 'boot sector and its backup' -e 'mostly harmless' \
              -e 'Not automatically fixing' -e ': [0-9]* files, [0-9]*/[0-9]* clusters$' -e '^[[:space:]]*[0-9]*:[0-9a-f]*/[0-9a-f]*$' | head -n 1 || true)
            [ -z "$why" ] ||
              problem "$nr" "the FAT file system of partition $nr has errors (fsck.fat -n: $why): repair it with fsck.fat -a on that partition, or restore the card from a clone set"
          fi
        else
          why=$(printf '%s\n' "$listing" | sed 's/^Could not get geometry of device ([^)]*)//' | grep -v '^[[:space:]]*$' | head -n 1 || true)
          problem "$nr" "the FAT file system of partition $nr is damaged (mtools: ${why:-cannot read it}): repair it with fsck.fat -a on that partition, or restore the card from a clone set"
        fi
      fi
      ;;
  esac
  atlas_event part "$nr" "$start" "$sectors" "${type:--}" "${fs:--}" "$used" "${fslabel:--}"
  atlas_detach "$dev"
done < <(partx -g -r -o NR,START,SECTORS,TYPE "$card")
