#!/usr/bin/env bash
# Flash onto a smaller card: makes OUT, a sparse image of BYTES (the card's size), from IMAGE whose
# last partition (the ext4 root) ends past BYTES but whose data fits. IMAGE is only read:
#   1. the root's used blocks are copied into a sparse file beside OUT (partclone.ext4 -b),
#      checked (e2fsck -f) and its minimum taken (resize2fs -P); a card too small for the minimum
#      is refused, saying how much is needed
#   2. it is shrunk (resize2fs) to end at the card's end (which keeps the seed's 5 % headroom,
#      ATLAS_ROOT_HEADROOM_PERCENT, whenever the card has it: atlas_fit_root)
#   3. OUT gets IMAGE's bytes before root, root's used blocks, and IMAGE's table with root ending at
#      the card's end (grown there: sfdisk, resize2fs)
# The app then writes OUT's used blocks onto the card through the write pipeline.
# usage: fit_image.sh IMAGE OUT BYTES
# shellcheck disable=SC2154 # boot, root, mnt, …: assigned by name (atlas_attach, atlas_mount, atlas_img_path, read -r)
source "$(dirname "${BASH_SOURCE[0]}")/atlas-common.sh"

[ $# -eq 3 ] || atlas_fail usage "usage: fit_image.sh IMAGE OUT BYTES"
image=$1
out=$2
bytes=$3
atlas_check_path image "$image"
atlas_check_path output "$out"
[ -f "$image" ] || atlas_fail not-found "no such image: $image"
[[ $bytes =~ ^[1-9][0-9]{0,15}$ ]] || atlas_fail bad-input "the card size must be a byte count: $bytes"
[ ! -e "$out" ] || atlas_fail exists "$out already exists"
atlas_require_root
atlas_require_tools sfdisk partx losetup partclone.ext4 e2fsck resize2fs dumpe2fs blkid
work=$(dirname -- "$out")
scratch_fs="$work/fit-root.fs"
[ ! -e "$scratch_fs" ] || atlas_fail exists "$scratch_fs already exists"
ATLAS_TMPFILES+=("$scratch_fs")

# ---------------------------------------------------------------- the image's root (nothing written)
label=$(atlas_table_label "$image")
read -r n start sectors < <(partx -g -r -o NR,START,SECTORS -- "$image" | awk '{ e = $2 + $3; if (e > m) { m = e; l = $0 } } END { print l }') ||
  atlas_fail bad-input "$image has no partition table"
[ -n "${sectors:-}" ] || atlas_fail bad-input "$image has no partitions"
atlas_fit_room "$start" "$label" "$bytes" ||
  atlas_fail too-small "the card is too small: it has $(atlas_size "$bytes"), and the image's last partition starts at $(atlas_size $((start * 512)))"
atlas_attach src "$image" "$start" "$sectors" ro
[ "$(atlas_fstype "$src")" = ext4 ] ||
  atlas_fail too-small "the card is too small for this image ($(atlas_size "$bytes"), the image needs $(atlas_size $(((start + sectors + FIT_TAIL) * 512)))), and its last partition is not an ext4 file system that could be shrunk to fit"

atlas_step fit-copy $((sectors * 512)) "Copying the root file system into the work folder (partclone.ext4)"
truncate -s $((sectors * 512)) "$scratch_fs" || atlas_fail no-space "could not create $scratch_fs"
atlas_attach fit "$scratch_fs" 0 "$sectors" rw
partclone.ext4 -b -s "$src" -o "$fit" || atlas_fail no-space "could not copy the root file system into $work (is the work folder full?); nothing was written"

atlas_step fit-check 0 "Checking the copy of the root file system (e2fsck -f)"
rc=0
e2fsck -f -y "$fit" >&2 || rc=$?
[ "$rc" -le 2 ] || atlas_fail fsck "e2fsck found errors it could not fix in the image's root file system (exit $rc)"
[ "$rc" -eq 0 ] || atlas_result fsck-fixed "the copy of the image's root file system (the image itself is unchanged)"
atlas_fs_field block_size "$fit" "Block size"
atlas_fs_min min_blocks "$fit"
[ "$min_blocks" -gt 0 ] || atlas_fail fsck "resize2fs -P gave a minimum size of 0 blocks for the root file system"
fits=yes
atlas_fit_root "$start" "$block_size" "$min_blocks" || fits=no
atlas_result min-bytes "$FIT_MIN_BYTES"
if [ "$fits" = no ]; then
  atlas_fail too-small "the card is too small for this image's data: it has $(atlas_size "$bytes"), the data needs at least $(atlas_size "$FIT_MIN_BYTES") (the root file system at its minimum, $min_blocks blocks of $block_size bytes, from sector $start); nothing was written (use a card of at least $(((FIT_MIN_BYTES + 999999) / 1000000)) MB)"
fi
[ "$FIT_HEADROOM" = ok ] || atlas_result headroom low

atlas_step fit-shrink 0 "Shrinking the root file system to fit the card (resize2fs)"
resize2fs "$fit" "$FIT_BLOCKS" >&2 ||
  atlas_fail too-small "resize2fs could not shrink the root file system to $(atlas_size $((FIT_BLOCKS * block_size))); nothing was written (use a larger card)"
fit_sectors=$FIT_SECTORS

# ---------------------------------------------------------------- OUT: head, root, table
atlas_step fit-build $((start * 512 + fit_sectors * 512)) "Building the image for this card"
truncate -s "$bytes" "$out" || atlas_fail no-space "could not create $out"
dd if="$image" of="$out" bs=1M count=$((start * 512)) iflag=count_bytes conv=notrunc,sparse status=none ||
  atlas_fail no-space "could not copy the image's first partitions into $out"
atlas_attach dst "$out" "$start" "$fit_sectors" rw
partclone.ext4 -b -s "$fit" -o "$dst" || atlas_fail no-space "could not write the root file system into $out"
sfdisk --dump -- "$image" | atlas_dump_for_card "$start" "$fit_sectors" |
  sfdisk -q --no-reread --no-tell-kernel "$out" >/dev/null || atlas_fail tool-failed "sfdisk could not write the table of $out"
echo ', +' | sfdisk -q -N "$n" --no-reread --no-tell-kernel "$out" >/dev/null || atlas_fail tool-failed "sfdisk could not grow partition $n"
atlas_part_geometry "$out" "$n"
atlas_attach grown "$out" "$PART_START" "$PART_SECTORS" rw
e2fsck -f -y "$grown" >&2 || [ $? -le 1 ] || atlas_fail fsck "e2fsck found errors on the shrunk root file system"
resize2fs "$grown" >&2 || atlas_fail tool-failed "resize2fs could not grow the root file system to the card's end"
sync -f "$out"
atlas_result shrunk-to "$((fit_sectors * 512))"
atlas_result root-start "$PART_START"
atlas_result root-sectors "$PART_SECTORS"
