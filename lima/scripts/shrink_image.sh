#!/usr/bin/env bash
# Phase 2 Shrink: makes a card image Etcher-ready, in place (the caller works on a copy).
#   1. re-enables armbian-resize-filesystem.service so a flashed clone grows on first boot
#   2. e2fsck -f, resize2fs -M until it shrinks no more (one pass leaves slack: its minimum is
#      estimated for the file system's old size; each pass is a result: pass, blocks before,
#      after). When the first pass does not shrink: e2fsck -fD and once more, else refused (a
#      shrink that did not happen is never reported)
#   3. root partition = file system + 5%, rounded up to 8 sectors (start kept from the table);
#      when that does not fit in the partition, or the image would not be smaller than the card,
#      refused (too-full) with the sizes and what to free: the buffer is never dropped
#   4. e2fsck -f again; with --zero-free, zerofree blanks the free blocks (moved files leave their
#      old copies behind) and the partition's 5% after the file system is zeroed, so a compressed
#      image carries nothing stale
#   5. the image is cut at the end of the root partition
# usage: shrink_image.sh IMAGE [--zero-free]
# shellcheck disable=SC2154 # boot, root, mnt, …: assigned by name (atlas_attach, atlas_mount, atlas_img_path, read -r)
source "$(dirname "${BASH_SOURCE[0]}")/atlas-common.sh"

if [ $# -lt 1 ] || [ $# -gt 2 ]; then atlas_fail usage "usage: shrink_image.sh IMAGE [--zero-free]"; fi
img=$1
zero_free=no
if [ $# -eq 2 ]; then
  [ "$2" = --zero-free ] || atlas_fail usage "usage: shrink_image.sh IMAGE [--zero-free]"
  zero_free=yes
fi
atlas_check_path image "$img"
[ -f "$img" ] || atlas_fail not-found "no such image: $img (shrink works on an image file)"
atlas_require_root
atlas_require_tools sfdisk partx losetup blkid e2fsck resize2fs dumpe2fs mount truncate
[ "$zero_free" = no ] || atlas_require_tools zerofree fallocate dd

label=$(atlas_table_label "$img")
[ -n "$label" ] || atlas_fail bad-input "$img has no partition table"
last=$(partx -g -r -o NR "$img" | sort -n | tail -n 1)
[ "$last" = 2 ] || atlas_fail unsupported "the root partition must be the last one (found $last partitions)"
atlas_attach_root root "$img" "nothing to shrink"
p2_start=$PART_START p2_sectors=$PART_SECTORS

atlas_step check 0 "Checking the root file system (e2fsck -f)"
atlas_e2fsck "$root" "before shrinking"

atlas_step resize-service 0 "Re-enabling the Armbian resize service"
atlas_mount mnt "$root" rw
unit=/lib/systemd/system/armbian-resize-filesystem.service
link=/etc/systemd/system/basic.target.wants/armbian-resize-filesystem.service
# Enabled when the link resolves, inside the image, to the unit file (an absolute link to /lib or
# /usr/lib, or a relative one, as systemctl enable writes it).
if ! atlas_img_test -f "$mnt" "$unit"; then
  atlas_result resize-service missing
  atlas_log "warning: armbian-resize-filesystem.service is not installed: the clone will not grow on first boot"
elif atlas_img_same "$mnt" "$link" "$unit"; then
  atlas_result resize-service enabled
else
  atlas_img_symlink "$unit" "$mnt" "$link"
  atlas_img_same "$mnt" "$link" "$unit" ||
    atlas_fail shrink "could not re-enable armbian-resize-filesystem.service in the image ($link does not lead to the unit)"
  atlas_result resize-service re-enabled
fi
atlas_umount "$mnt"

atlas_step shrink-fs 0 "Shrinking the file system (resize2fs -M)"
atlas_e2fsck "$root" "after re-enabling the resize service"
# A shrink happened when the block count went down, or the file system already was at its minimum
# (resize2fs -P). resize2fs -M can fail ("Need N data blocks in last group", no memory on a loaded
# machine) or move nothing on a fragmented file system: that is never reported as a shrink.
# resize2fs marks the file system as having errors when it starts a resize and clears the mark only
# when the resize is done, so after a failed pass the file system is checked (e2fsck -fy, as
# resize2fs itself asks) before anything reads it again: resize2fs -P refuses a marked one.
try_shrink() { # sets SHRINK_WHY when it did not shrink
  local before after min out rc=0
  atlas_fs_field before "$root" "Block count"
  out=$(resize2fs -M "$root" 2>&1) || rc=$?
  printf '%s\n' "$out" >&2
  if [ "$rc" -ne 0 ]; then
    atlas_log "resize2fs -M failed (exit $rc): $(atlas_tool_words "$out")"
    atlas_e2fsck "$root" "after a failed resize2fs -M"
  fi
  atlas_fs_field after "$root" "Block count"
  atlas_fs_min min "$root"
  SHRINK_WHY=""
  if [ "$rc" -eq 0 ] && { [ "$after" -lt "$before" ] || [ "$after" -le "$min" ]; }; then return 0; fi
  SHRINK_WHY=$(atlas_tool_words "$out")
  SHRINK_WHY="still $after blocks, its minimum is $min${SHRINK_WHY:+: $SHRINK_WHY}"
  return 1
}
atlas_fs_field fs_blocks_before "$root" "Block count"
if ! try_shrink; then
  atlas_log "resize2fs -M did not shrink the file system ($SHRINK_WHY): retrying after e2fsck -fD"
  atlas_e2fsck "$root" "optimizing directories (e2fsck -fD) to retry the shrink" -D
  try_shrink || atlas_fail shrink "resize2fs -M could not shrink the root file system ($SHRINK_WHY), not even after e2fsck -fD: its free space is too fragmented. Free space on the card (or defragment it with e4defrag on the device) and shrink again"
  atlas_result shrink-retried "after e2fsck -fD"
fi
# resize2fs -P estimates the minimum for the file system as it is: after a pass it is smaller
# (fewer groups to keep metadata for), so pass again until a pass gains nothing. At most 8 passes.
pass_from=$fs_blocks_before
pass=1
while :; do
  atlas_fs_field now "$root" "Block count"
  atlas_result shrink-pass "$pass $pass_from $now"
  atlas_log "resize2fs -M pass $pass: $pass_from -> $now blocks (gained $((pass_from - now)))"
  [ "$pass" -lt 8 ] && [ "$now" -lt "$pass_from" ] || break
  atlas_fs_min min "$root"
  [ "$min" -lt "$now" ] || break
  pass=$((pass + 1))
  pass_from=$now
  # A later pass that fails or gains nothing ends the loop; the file system stays as the last
  # good pass left it (a failed pass moves no data for good, and its error mark is checked away).
  try_shrink || true
done
atlas_fs_min min "$root"
atlas_result fs-min-estimate "$min"
atlas_fs_field block_count "$root" "Block count"
atlas_fs_field block_size "$root" "Block size"
fs_sectors=$((block_count * block_size / 512))
buffer=$((fs_sectors * ATLAS_ROOT_HEADROOM_PERCENT / 100))
new_sectors=$(((fs_sectors + buffer + 7) / 8 * 8))
p2_end=$((p2_start + new_sectors - 1))
total=$((p2_end + 1))
card_bytes=$(stat -c %s -- "$img")
tail_sectors=$(atlas_tail_sectors "$label")
image_bytes=$(((total + tail_sectors) * 512))
if [ "$new_sectors" -gt "$p2_sectors" ] || [ "$image_bytes" -ge "$card_bytes" ]; then
  # The buffer is never dropped and an image as large as the card is no shrink: refused, with
  # what it would take (the sectors the image must lose, at least one 4 KiB block).
  mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
  short=$((image_bytes - card_bytes + 4096))
  [ "$new_sectors" -le "$p2_sectors" ] || short=$(((new_sectors - p2_sectors) * 512 + 4096))
  atlas_fs_min min_now "$root"
  atlas_fail too-full "the root file system is too full to shrink: it is $fs_blocks_before blocks ($(mib $((fs_blocks_before * block_size))) MiB) and shrinks to no less than ${min_now:-$block_count} (resize2fs -P: ${min_now:-$block_count} blocks of $block_size bytes); with the $ATLAS_ROOT_HEADROOM_PERCENT % buffer a flashed card needs to boot that is $(mib $((new_sectors * 512))) MiB, but the root partition is $(mib $((p2_sectors * 512))) MiB (the card $(mib "$card_bytes") MiB), so the image would be as large as the card. Free at least $(awk -v b="$short" 'BEGIN { printf "%d", (b + 1048575) / 1048576 }') MiB on the card (apt-get clean, old logs, files in /home) and shrink again, or keep a clone set of it instead"
fi
atlas_detach "$root"

atlas_step shrink-partition 0 "Shrinking the root partition to the file system + $ATLAS_ROOT_HEADROOM_PERCENT%"
echo "start=$p2_start, size=$new_sectors" | sfdisk -q -N 2 --no-reread --no-tell-kernel "$img" >/dev/null ||
  atlas_fail shrink "sfdisk could not rewrite partition 2"

atlas_step verify 0 "Checking the shrunk file system"
atlas_attach root "$img" "$p2_start" "$new_sectors" rw
atlas_e2fsck "$root" "after shrinking"
if [ "$zero_free" = yes ]; then
  atlas_step zero-free 0 "Zeroing the free blocks of the root file system (zerofree)"
  zerofree "$root" || atlas_fail shrink "zerofree could not zero the free blocks of the root file system"
  atlas_result zero-free root
fi
atlas_detach "$root"
if [ "$zero_free" = yes ] && [ "$new_sectors" -gt "$fs_sectors" ]; then
  # The 5% after the file system's end still holds what resize2fs moved away from there: a hole
  # (or zeros where the share cannot punch one).
  tail_at=$(((p2_start + fs_sectors) * 512)) tail_len=$(((new_sectors - fs_sectors) * 512))
  fallocate --punch-hole --keep-size --offset "$tail_at" --length "$tail_len" "$img" 2>/dev/null ||
    dd if=/dev/zero of="$img" bs=512 seek="$((p2_start + fs_sectors))" count="$((new_sectors - fs_sectors))" conv=notrunc status=none ||
    atlas_fail shrink "could not zero the root partition after the file system's end"
  atlas_result zero-free partition-tail
fi

atlas_step truncate 0 "Cutting the image at the end of the root partition"
if [ "$label" = gpt ]; then
  # A GPT keeps a backup table in its last sectors (ATLAS_BACKUP_GPT_SECTORS): write the table
  # anew on the cut image, so both copies are valid (same disk and partition GUIDs, names and types).
  table=$(sfdisk --dump "$img" | atlas_dump_for_card 0 0)
  size=$(((total + tail_sectors) * 512))
  truncate -s "$size" "$img"
  printf '%s\n' "$table" | sfdisk -q --no-reread --no-tell-kernel "$img" >/dev/null ||
    atlas_fail shrink "sfdisk could not rewrite the GPT for the new size"
else
  size=$((total * 512))
  truncate -s "$size" "$img"
fi
atlas_result fs-blocks-before "$fs_blocks_before"
atlas_result fs-blocks "$block_count"
atlas_result block-size "$block_size"
atlas_result root-start "$p2_start"
atlas_result root-sectors "$new_sectors"
atlas_result image-bytes "$size"
atlas_log "shrunk $img to $size bytes"
