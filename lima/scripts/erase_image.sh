#!/usr/bin/env bash
# Erase: the image of a card erased for normal use, as Raspberry Pi Imager's "Erase" leaves one: an
# MBR with one FAT32 partition (type 0c, bootable) from sector 8192 (4 MiB) to the card's end (at
# most the 2^32 - 1 sectors an MBR entry holds), labelled LABEL. OUT is a new sparse file of BYTES
# (the card's size); the app writes its used blocks (the table, the boot sectors, the FATs and
# the root directory) onto the card through the write pipeline.
# usage: erase_image.sh OUT BYTES LABEL
source "$(dirname "${BASH_SOURCE[0]}")/atlas-common.sh"

[ $# -eq 3 ] || atlas_fail usage "usage: erase_image.sh OUT BYTES LABEL"
out=$1
bytes=$2
label=$3
atlas_check_path output "$out"
[[ $bytes =~ ^[1-9][0-9]{0,15}$ ]] || atlas_fail bad-input "the card size must be a byte count: $bytes"
[[ $label =~ ^[A-Z0-9_-]{1,11}$ ]] || atlas_fail bad-input "a FAT label is 1 to 11 of A-Z 0-9 _ -: $label"
atlas_require_tools sfdisk mkfs.vfat
[ ! -e "$out" ] || atlas_fail exists "$out already exists"

start=8192
sectors=$((bytes / 512 - start))
[ "$sectors" -le 4294967295 ] || sectors=4294967295
# FAT32 needs 65525 clusters; at 512-byte clusters that and two FATs take about 34 MiB.
min_sectors=$((34 * 2048))
if [ "$sectors" -lt "$min_sectors" ]; then
  atlas_fail too-small "the card is too small for FAT32: it has $(atlas_size "$bytes"), at least $(atlas_size $(((start + min_sectors) * 512))) are needed"
fi

atlas_step erase-image 0 "Making the erased card's table and FAT32 file system"
truncate -s "$bytes" "$out" || atlas_fail no-space "could not create $out"
printf 'label: dos\nunit: sectors\nstart=%s, size=%s, type=c, bootable\n' "$start" "$sectors" |
  sfdisk -q --no-reread --no-tell-kernel "$out" >/dev/null || atlas_fail tool-failed "sfdisk could not write the table"
# The file system goes into the partition of the image (--offset), its size the partition's (in
# KiB), its hidden sectors the partition start, as on a card.
mkfs.vfat -F 32 -n "$label" -h "$start" --offset="$start" "$out" $((sectors / 2)) >&2 ||
  atlas_fail tool-failed "mkfs.vfat could not make the FAT32 file system"
atlas_result partition-start "$start"
atlas_result partition-sectors "$sectors"
atlas_result label "$label"
