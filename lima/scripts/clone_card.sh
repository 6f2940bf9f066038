#!/usr/bin/env bash
# Phase 1 Clone: partition-level copy of a card into a clone set directory, as on jdl-mini-box:
#   partition-table.dump      sfdisk --dump of the card
#   sdc1-boot.partclone.gz    partclone.fat32 -c | pigz  (used blocks only)
#   sdc2-root.partclone.gz    partclone.ext4 -c  | pigz  (used blocks only)
#   restore_golden.sh         the standalone restore script
# usage: clone_card.sh CARD OUT_DIR     (CARD: block device or image file; OUT_DIR: empty or absent)
# shellcheck disable=SC2154 # boot, root, mnt, …: assigned by name (atlas_attach, atlas_mount, atlas_img_path, read -r)
source "$(dirname "${BASH_SOURCE[0]}")/atlas-common.sh"

[ $# -eq 2 ] || atlas_fail usage "usage: clone_card.sh CARD OUT_DIR"
card=$1
out=$2
atlas_check_card "$card"
atlas_check_path "output directory" "$out"
atlas_require_root
atlas_require_tools sfdisk partx losetup blkid partclone.fat32 partclone.ext4 partclone.chkimg pigz
if [ -e "$out" ] && [ -n "$(ls -A "$out")" ]; then atlas_fail exists "output directory is not empty: $out"; fi
mkdir -p "$out"

atlas_step unmount 0 "Unmounting the card"
atlas_release_device "$card"

atlas_step table 0 "Saving the partition table"
sfdisk --dump "$card" >"$out/partition-table.dump" || atlas_fail bad-input "$card has no readable partition table"
atlas_part_geometry "$card" 1
p1_start=$PART_START p1_sectors=$PART_SECTORS
atlas_part_geometry "$card" 2
p2_start=$PART_START p2_sectors=$PART_SECTORS
card_bytes=$(atlas_card_bytes "$card")
[ $(((p2_start + p2_sectors) * 512)) -le "$card_bytes" ] ||
  atlas_fail bad-input "$card is truncated: its partition 2 ends past the end of the image"
atlas_result label "$(atlas_table_label "$card")"

atlas_attach boot "$card" "$p1_start" "$p1_sectors" ro
atlas_attach root "$card" "$p2_start" "$p2_sectors" ro
boot_type=$(atlas_fstype "$boot")
root_type=$(atlas_fstype "$root")
[ "$boot_type" = vfat ] || atlas_fail unsupported "partition 1 is '${boot_type:-unknown}', expected the FAT32 boot partition RPICFG"
[ "$root_type" = ext4 ] || atlas_fail unsupported "partition 2 is '${root_type:-unknown}', expected the ext4 root partition armbi_root"

atlas_step clone-boot $((p1_sectors * 512)) "Cloning the boot partition (partclone.fat32)"
partclone.fat32 -c -s "$boot" | pigz -6 >"$out/sdc1-boot.partclone.gz"

atlas_step clone-root $((p2_sectors * 512)) "Cloning the root partition (partclone.ext4)"
partclone.ext4 -c -s "$root" | pigz -6 >"$out/sdc2-root.partclone.gz"

atlas_step check-images 0 "Checking the partclone images (partclone.chkimg)"
pigz -dc "$out/sdc1-boot.partclone.gz" | partclone.chkimg -s - >&2 || atlas_fail verify "the boot image failed partclone.chkimg"
pigz -dc "$out/sdc2-root.partclone.gz" | partclone.chkimg -s - >&2 || atlas_fail verify "the root image failed partclone.chkimg"

cp "$(dirname "${BASH_SOURCE[0]}")/restore_golden.sh" "$out/restore_golden.sh"
chmod 0755 "$out/restore_golden.sh"
sync -f "$out/sdc2-root.partclone.gz"
atlas_result boot-start "$p1_start"
atlas_result boot-sectors "$p1_sectors"
atlas_result root-start "$p2_start"
atlas_result root-sectors "$p2_sectors"
atlas_result card-bytes "$card_bytes"
atlas_log "clone set written to $out"
