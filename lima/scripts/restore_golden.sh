#!/usr/bin/env bash
# Phase 1 Restore: writes a golden clone set onto a card and grows the root partition to fill it.
# Travels inside every clone set and runs standalone on any Linux box with sfdisk, partclone, pigz
# and e2fsprogs:
#     sudo bash restore_golden.sh /dev/sdX
# TARGET may also be an image file (a "card image"): it is restored in place at its current size.
#   1. checks the set (regular files only, never a link) and that the card is large enough, also
#      for the root's data by its partclone header (before anything is decompressed); a card
#      smaller than the clone's card gets its root shrunk to fit when the data fits: the root is
#      restored into a sparse file in the work folder (--work-dir, default: the folder holding
#      the set), checked (e2fsck -f), and its minimum taken (resize2fs -P); a card too small for
#      the minimum is refused here, saying how much is needed; otherwise it is shrunk (resize2fs)
#      to end at the card's end, which keeps the 5 % headroom of the seed whenever the card has it
#   2. unmounts the target's partitions (a disk holding the running system is refused)
#   3. makes the old card stop looking valid: zeroes its first MiB, its last 33 sectors (backup GPT)
#      and 64 KiB where each new partition starts
#   4. restores boot (FAT32) with partclone.fat32 -r and root (ext4) with partclone.ext4 -r, at the
#      offsets the dump gives (a shrunk root: its used blocks, partclone.ext4 -b)
#   5. restores the partition table (sfdisk) last, so an interrupted restore leaves no table (a
#      shrunk root: the dump's root partition ends where its file system now ends)
#   6. grows the root partition and its file system to the end of the card
# usage: restore_golden.sh TARGET [--set-dir DIR] [--work-dir DIR] [--no-grow]
# shellcheck disable=SC2154 # boot, root, mnt, …: assigned by name (atlas_attach, atlas_mount, atlas_img_path, read -r)
set -euo pipefail
export LC_ALL=C

set_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
grow=1
target=""
work_base=""
while [ $# -gt 0 ]; do
  case "$1" in
    --set-dir) set_dir=${2:?--set-dir needs a directory}; shift 2 ;;
    --work-dir) work_base=${2:?--work-dir needs a directory}; shift 2 ;;
    --no-grow) grow=0; shift ;;
    -h | --help) sed -n '2,26p' "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) printf 'error: unknown option %s\n' "$1" >&2; exit 2 ;;
    *) [ -z "$target" ] || { printf 'error: only one target\n' >&2; exit 2; }; target=$1; shift ;;
  esac
done

LOOPS=()
work=""
ev() { printf '@@ATLAS %s\n' "$*"; }
# The same as atlas-common.sh's (this script travels alone, inside every clone set).
atlas_size() { # atlas_size BYTES: the size as the app writes it (decimal MB/GB, common/format-bytes.ts)
  awk -v n="$1" 'BEGIN { split("B KB MB GB TB", u, " "); i = 1; while (n >= 1000 && i < 5) { n /= 1000; i++ }
    if (i == 1) printf "%d B", n; else if (n >= 100) printf "%.0f %s", n, u[i]; else printf "%.1f %s", n, u[i] }'
}
# BEGIN atlas_exit_status (written from ERROR_CODES by scripts/error-codes-sh.mjs: do not edit)
atlas_exit_status() { # atlas_exit_status CODE: prints 2 if a failure CODE is the input's fault, else 1
  case "$1" in
    bad-input | busy | exists | not-found | system-disk | too-small | unsafe-target | unsupported | usage | wrong-phase) echo 2 ;;
    *) echo 1 ;;
  esac
}
# END atlas_exit_status
fail() { # fail CODE MESSAGE: exit 2 for bad input, 1 otherwise (atlas_exit_status)
  local code=$1; shift
  ev fail "$code" "$*"
  printf 'error: %s\n' "$*" >&2
  exit "$(atlas_exit_status "$code")"
}
cleanup() {
  local rc=$? i
  for ((i = ${#LOOPS[@]} - 1; i >= 0; i--)); do losetup -d "${LOOPS[$i]}" 2>/dev/null || true; done
  [ -z "$work" ] || rm -rf -- "$work"
  return "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

attach() { # attach VAR START SECTORS
  local dev
  dev=$(losetup --find --show --offset $(($2 * 512)) --sizelimit $(($3 * 512)) -- "$target") ||
    fail loop "could not attach a loop device to $target"
  LOOPS+=("$dev")
  printf -v "$1" '%s' "$dev"
}
detach_all() {
  local d
  for d in "${LOOPS[@]}"; do losetup -d "$d" 2>/dev/null || true; done
  LOOPS=()
}
geometry() { # geometry N -> sets START SECTORS from the card's table
  local line
  line=$(partx -g -r -o NR,START,SECTORS "$target" | awk -v n="$1" '$1 == n { print $2, $3 }')
  [ -n "$line" ] || fail restore "partition $1 is missing on $target after writing the table"
  read -r START SECTORS <<<"$line"
}
dump_geometry() { # dump_geometry N -> sets START SECTORS from partition-table.dump
  local line
  line=$(awk -v n="$1" -F'[=,]' '/start=/ && match($0, /[0-9]+[[:space:]]*:/) && substr($0, RSTART, RLENGTH) + 0 == n { printf "%.0f %.0f\n", $2 + 0, $4 + 0; exit }' "$dump")
  [ -n "$line" ] || fail bad-input "partition-table.dump has no partition $1"
  read -r START SECTORS <<<"$line"
}
part_of() { # part_of DISK DEV: DEV is DISK or one of its partitions (sdc1, loop1p1; never loop10)
  local disk=$1 dev=$2 rest
  [ "$dev" = "$disk" ] && return 0
  rest=${dev#"$disk"}
  [ "$rest" != "$dev" ] || return 1
  if [[ $disk =~ [0-9]$ ]]; then [[ $rest =~ ^p[0-9]+$ ]]; else [[ $rest =~ ^[0-9]+$ ]]; fi
}
zero() { # zero SECTOR COUNT: writes zeros over that range of the target
  dd if=/dev/zero of="$target" bs=512 seek="$1" count="$2" conv=notrunc status=none ||
    fail restore "could not write to $target"
}
check_fs() { # check_fs WHAT DEV: e2fsck -f -y; what it fixed goes to the log and the result
  local what=$1 dev=$2 rc=0 fsck_out fixed
  fsck_out=$(e2fsck -f -y "$dev" 2>&1) || rc=$?
  printf '%s\n' "$fsck_out" >&2
  [ "$rc" -le 2 ] || fail fsck "e2fsck reported errors on the $what (exit $rc)"
  if [ "$rc" -ne 0 ]; then
    # Never passed silently: what e2fsck fixed goes to the log and the result.
    fixed=$(printf '%s\n' "$fsck_out" | awk '/\? yes$/ { t = $0; sub(/[A-Za-z][A-Za-z ]*\? yes$/, "", t); gsub(/^[[:space:]]+|[[:space:]]+$/, "", t); if (t == "") t = prev; n++; if (n <= 8) s = s (n > 1 ? "; " : "") t; next } NF { prev = $0 } END { if (n > 8) s = s "; and " (n - 8) " more"; print s }')
    printf 'e2fsck changed the %s: %s\n' "$what" "${fixed:-see its output above}"
    ev result fsck-fixed "restored root: ${fixed:-the file system was modified}"
  fi
}

# partclone_head FILE NAME: sets PC_FS PC_BLOCK_SIZE PC_TOTAL PC_USED from the header of a
# gzip-compressed partclone image: only the stream's first 110 bytes are decompressed. Layout (as
# partclone writes it, src/partclone.h, little-endian): format 0002: magic "partclone-image\0",
# version, "0002", 0xC0DE; fs name[16] at 36, device size, total blocks, used blocks, bitmap
# blocks (u64 at 52, 60, 68, 76), block size (u32 at 84). Format 0001: fs at 15, block size
# (i32 at 36), device size, total blocks, used blocks (u64 at 40, 48, 56).
partclone_head() {
  local file=$1 b used2 why="$2 is not a partclone image this clone set could have"
  # pigz stops when head has its bytes (a broken pipe, not an error here).
  read -r -a b <<<"$({ pigz -dc -- "$file" 2>/dev/null || true; } | head -c 110 | od -An -v -tu1 | tr -s ' \n' '  ')"
  [ "${#b[@]}" -ge 64 ] || fail bad-input "$why: it is not gzip-compressed partclone data"
  # "partclone-image", byte by byte
  [ "${b[*]:0:15}" = "112 97 114 116 99 108 111 110 101 45 105 109 97 103 101" ] ||
    fail bad-input "$why: it does not start with partclone's magic"
  case "${b[*]:30:4}" in
    "48 48 48 50") # 0002
      [ "${#b[@]}" -ge 110 ] || fail bad-input "$why: its header is cut short"
      _pc_u64 PC_TOTAL 60 && _pc_u64 PC_USED 68 && _pc_u64 used2 76 || fail bad-input "$why: a count in its header is out of range"
      [ "$used2" -le "$PC_USED" ] || PC_USED=$used2
      PC_BLOCK_SIZE=$((b[84] | b[85] << 8 | b[86] << 16 | b[87] << 24))
      ;;
    "48 48 48 49") # 0001
      _pc_u64 PC_TOTAL 48 && _pc_u64 PC_USED 56 || fail bad-input "$why: a count in its header is out of range"
      PC_BLOCK_SIZE=$((b[36] | b[37] << 8 | b[38] << 16 | b[39] << 24))
      ;;
    *) fail bad-input "$why: its image format is not one partclone writes" ;;
  esac
  case "$PC_BLOCK_SIZE" in
    512 | 1024 | 2048 | 4096 | 8192 | 16384 | 32768 | 65536) ;;
    *) fail bad-input "$why: its block size $PC_BLOCK_SIZE is not a power of two from 512 to 65536" ;;
  esac
  [ "$PC_USED" -le "$PC_TOTAL" ] || fail bad-input "$why: it has more used blocks ($PC_USED) than blocks ($PC_TOTAL)"
}
_pc_u64() { # _pc_u64 VAR OFFSET: the little-endian u64 at OFFSET of partclone_head's b; false past 2^48
  local o=$2
  [ "${b[o + 6]}" -eq 0 ] && [ "${b[o + 7]}" -eq 0 ] || return 1
  printf -v "$1" '%d' $((b[o] | b[o + 1] << 8 | b[o + 2] << 16 | b[o + 3] << 24 | b[o + 4] << 32 | b[o + 5] << 40))
}

# ---------------------------------------------------------------- checks (nothing written yet)
[ -n "$target" ] || fail usage "usage: sudo bash restore_golden.sh /dev/sdX"
case "$target$work_base" in *$'\n'*) fail bad-input "a path contains a line break" ;; esac
[ "$(id -u)" -eq 0 ] || fail permission "run as root: sudo bash restore_golden.sh $target"
for t in sfdisk partx losetup partclone.fat32 partclone.ext4 pigz e2fsck resize2fs dumpe2fs; do
  command -v "$t" >/dev/null 2>&1 || fail missing-tool "$t is not installed (apt-get install partclone pigz fdisk e2fsprogs)"
done
dump="$set_dir/partition-table.dump"
boot_img="$set_dir/sdc1-boot.partclone.gz"
root_img="$set_dir/sdc2-root.partclone.gz"
for f in "$dump" "$boot_img" "$root_img"; do
  # A set may come from anyone: a link is never followed (it could lead to a secret), and only a
  # regular file is read (a pipe could block forever).
  if [ -L "$f" ]; then fail bad-input "the clone set's ${f##*/} is a link; a clone set holds regular files only, and nothing of it was read"; fi
  if [ -e "$f" ] && [ ! -f "$f" ]; then fail bad-input "the clone set's ${f##*/} is not a regular file; nothing of it was read"; fi
  [ -s "$f" ] || fail not-found "the clone set is incomplete: $f is missing"
done
if [ -b "$target" ]; then
  target_bytes=$(blockdev --getsize64 "$target")
elif [ -f "$target" ]; then
  target_bytes=$(stat -L -c %s -- "$target")
else
  fail not-found "no such card or image: $target"
fi

# The dump comes with the set and goes to sfdisk: only what sfdisk writes for a two-partition card
# is read (its header lines, partitions 1 and 2 in sectors in its own field order), as the app does.
why=$(awk '
  /^[[:space:]]*$/ { next }
  /^label: (dos|gpt)$/ || /^label-id: [0-9A-Fa-fx-]+$/ || /^device: [^[:space:]]/ || /^unit: sectors$/ { next }
  /^sector-size: 512$/ || /^(first-lba|last-lba|grain|table-length): [0-9]+$/ { next }
  /^[^[:space:]].* : start= *[0-9]+, size= *[0-9]+, type=[0-9A-Fa-f-]+(, (bootable|uuid=[0-9A-Fa-f-]+|name="[^"]*"|attrs="[^"]*"))*$/ { n++; next }
  { bad = NR; exit }
  END {
    if (bad) print "line " bad " is not one sfdisk writes"
    else if (n != 2) print "it lists " n + 0 " partitions; a clone set has partition 1 (boot) and 2 (root)"
  }' "$dump")
[ -z "$why" ] || fail bad-input "partition-table.dump is not a partition table this clone set could have: $why"
label=$(awk '/^label:/ { print $2; exit }' "$dump")
[ -n "$label" ] || fail bad-input "partition-table.dump is not a partition table this clone set could have: it has no label line"
# The last sector any partition of the clone needs, plus the backup GPT at the end of a GPT card.
need_sectors=$(awk -F'[=,]' '/start=/ { s = $2 + 0; z = $4 + 0; if (s + z > m) m = s + z } END { printf "%.0f\n", m }' "$dump")
[ "$need_sectors" -gt 0 ] || fail bad-input "partition-table.dump lists no partitions"
[ "$label" = gpt ] && need_sectors=$((need_sectors + 33))
need_bytes=$((need_sectors * 512))
ev result need-bytes "$need_bytes"
ev result target-bytes "$target_bytes"
dump_geometry 1
p1_start=$START p1_sectors=$SECTORS
dump_geometry 2
p2_start=$START p2_sectors=$SECTORS
for n in "$p1_start" "$p1_sectors" "$p2_start" "$p2_sectors"; do
  [ "${#n}" -le 15 ] || fail bad-input "partition-table.dump is not a partition table this clone set could have: $n sectors is out of range"
done
[ "$p1_sectors" -gt 0 ] && [ "$p2_sectors" -gt 0 ] && [ "$p1_start" -ge 34 ] && [ $((p1_start + p1_sectors)) -le "$p2_start" ] ||
  fail bad-input "partition-table.dump is not a partition table this clone set could have: its partitions are empty, overlap, or start inside the table"
target_sectors=$((target_bytes / 512))
tail_sectors=0
[ "$label" = gpt ] && tail_sectors=33
# The images' headers: their file systems must fit their partitions, and the root's data the card.
partclone_head "$boot_img" sdc1-boot.partclone.gz
[ $((PC_TOTAL * PC_BLOCK_SIZE)) -le $((p1_sectors * 512)) ] ||
  fail bad-input "sdc1-boot.partclone.gz holds a file system of $(atlas_size $((PC_TOTAL * PC_BLOCK_SIZE))) (its partclone header), larger than partition 1 in partition-table.dump ($(atlas_size $((p1_sectors * 512))))"
partclone_head "$root_img" sdc2-root.partclone.gz
[ $((PC_TOTAL * PC_BLOCK_SIZE)) -le $((p2_sectors * 512)) ] ||
  fail bad-input "sdc2-root.partclone.gz holds a file system of $(atlas_size $((PC_TOTAL * PC_BLOCK_SIZE))) (its partclone header), larger than partition 2 in partition-table.dump ($(atlas_size $((p2_sectors * 512))))"
root_data=$((PC_USED * PC_BLOCK_SIZE))
least=$(((p2_start + tail_sectors) * 512 + root_data))
[ "$target_bytes" -ge "$least" ] ||
  fail too-small "the card is too small for this clone's data: it has $(atlas_size "$target_bytes"), the data needs at least $(atlas_size "$least") (the root file system's used blocks, $PC_USED of $PC_BLOCK_SIZE bytes by its partclone header, from sector $p2_start); nothing was written (use a card of at least $(((least + 999999) / 1000000)) MB)"
# fit=1: the card is smaller than the clone's card; root (the last partition) is shrunk to fit.
fit=0
if [ "$target_bytes" -lt "$need_bytes" ]; then
  last_end=$(awk -F'[=,]' -v s="$p2_start" '/start=/ && $2 + 0 != s { e = $2 + $4; if (e > m) m = e } END { printf "%.0f\n", m }' "$dump")
  avail_sectors=$((target_sectors - tail_sectors - p2_start))
  if [ "$last_end" -gt "$p2_start" ] || [ "$avail_sectors" -le 2048 ]; then
    fail too-small "the card is too small: it has $(atlas_size "$target_bytes"), this clone needs $(atlas_size "$need_bytes") (use a larger card, or flash a shrunk ods-atlas-clone image instead)"
  fi
  fit=1
fi

# ---------------------------------------------------------------- a smaller card: shrink root first
# Nothing is written to the card here: the root is restored into a sparse file in the work folder,
# checked, and shrunk to end at the card's end; a card too small for its data is refused.
if [ "$fit" = 1 ]; then
  [ -n "$work_base" ] || work_base=$(dirname -- "$set_dir")
  # The root's data is restored into the work folder first: it must fit there with 64 MiB to
  # spare, or the folder's disk would be filled (as root, reserved blocks included).
  free=$(df --output=avail -B1 -- "$work_base" 2>/dev/null | tail -n 1) || free=""
  free=${free// /}
  [ -n "$free" ] || fail no-space "could not tell the free space of the work folder $work_base"
  [ "$free" -ge $((root_data + 64 * 1024 * 1024)) ] ||
    fail no-space "the work folder $work_base has $(atlas_size "$free") free; fitting this clone to a smaller card restores its root file system there first, which needs $(atlas_size $((root_data + 64 * 1024 * 1024))) (its $(atlas_size "$root_data") of data by its partclone header, and 64 MiB to spare); nothing was decompressed or written (pass --work-dir DIR with room, or use a card as large as the clone's card)"
  ev step fit-restore $((p2_sectors * 512)) Restoring the root file system into the work folder '(partclone.ext4)'
  work=$(mktemp -d "$work_base/.atlas-restore.XXXXXX") ||
    fail no-space "could not make a work folder in $work_base (pass --work-dir DIR with room for the root file system's data)"
  truncate -s $((p2_sectors * 512)) "$work/root.fs" || fail no-space "could not make $work/root.fs"
  scratch=$(losetup --find --show -- "$work/root.fs") || fail loop "could not attach a loop device to $work/root.fs"
  LOOPS+=("$scratch")
  if ! pigz -dc "$root_img" | partclone.ext4 -r -s - -o "$scratch"; then
    free=$(df --output=avail -B1 -- "$work" | tail -n 1)
    [ "${free// /}" -gt $((64 * 1024 * 1024)) ] ||
      fail no-space "the work folder $work_base ran out of space restoring the root file system (free some space, or pass --work-dir DIR); nothing was written to $target"
    fail restore "partclone.ext4 could not restore the root file system into $work; nothing was written to $target"
  fi
  ev step fit-check 0 Checking the restored root file system '(e2fsck -f)'
  check_fs "restored root file system" "$scratch"
  # The tools' own words go to the log and into the failure.
  fs_out=$(dumpe2fs -h "$scratch" 2>&1) || true
  block_size=$(printf '%s\n' "$fs_out" | awk -F: '/^Block size/ { gsub(/[[:space:]]/, "", $2); print $2 }')
  [ -n "$block_size" ] || { printf '%s\n' "$fs_out" >&2; fail fsck "could not read the root file system's block size (dumpe2fs -h): $(printf '%s\n' "$fs_out" | grep -v '^[[:space:]]*$' | tail -n 2 | tr '\n' ' ')"; }
  fs_out=$(resize2fs -P "$scratch" 2>&1) || true
  min_blocks=$(printf '%s\n' "$fs_out" | awk -F': ' '/minimum size/ { print $2 + 0 }')
  [ -n "$min_blocks" ] && [ "$min_blocks" -gt 0 ] || { printf '%s\n' "$fs_out" >&2; fail fsck "could not read the root file system's minimum size (resize2fs -P): $(printf '%s\n' "$fs_out" | grep -v '^[[:space:]]*$' | tail -n 2 | tr '\n' ' ')"; }
  fit_blocks=$((avail_sectors * 512 / block_size))
  min_bytes=$(((p2_start + tail_sectors) * 512 + min_blocks * block_size))
  ev result min-bytes "$min_bytes"
  if [ "$fit_blocks" -lt "$min_blocks" ]; then
    fail too-small "the card is too small for this clone's data: it has $(atlas_size "$target_bytes"), the data needs at least $(atlas_size "$min_bytes") (the root file system at its minimum, $min_blocks blocks of $block_size bytes, from sector $p2_start); nothing was written (use a card of at least $(((min_bytes + 999999) / 1000000)) MB)"
  fi
  if [ $((fit_blocks * 100)) -lt $((min_blocks * 105)) ]; then
    printf 'the card leaves the root less than the 5%% headroom over its minimum\n'
    ev result headroom low
  fi
  ev step fit-shrink 0 Shrinking the root file system to fit the card '(resize2fs)'
  resize2fs "$scratch" "$fit_blocks" >&2 ||
    fail too-small "resize2fs could not shrink the root file system to $(atlas_size $((fit_blocks * block_size))); nothing was written to $target (use a larger card)"
  fit_sectors=$((fit_blocks * block_size / 512))
  ev result shrunk-to "$((fit_sectors * 512))"
fi

# ---------------------------------------------------------------- unmount
ev step unmount 0 Unmounting the target
if [ -b "$target" ]; then
  real=$(readlink -f "$target")
  while read -r src mnt _; do
    part_of "$real" "$src" || continue
    case "$mnt" in / | /boot | /boot/* | /usr | /var | /home) fail system-disk "$target holds the running system ($mnt): refusing" ;; esac
    umount "$mnt" || fail busy "could not unmount $mnt (close whatever uses it)"
  done </proc/mounts
fi

# ---------------------------------------------------------------- invalidate the old card
# Whatever made the old card look valid goes first (its table, its backup GPT, file system heads
# where the new partitions start); the new table is written last. An interrupted restore leaves a
# card without a table, never an old or half-new card that looks finished.
ev step invalidate 0 Clearing the old partition table
zero 0 2048
[ "$target_sectors" -gt 2081 ] && zero $((target_sectors - 33)) 33
zero "$p1_start" 128
zero "$p2_start" 128
sync

# ---------------------------------------------------------------- partitions
ev step restore-boot $((p1_sectors * 512)) Restoring the boot partition '(partclone.fat32)'
attach boot "$p1_start" "$p1_sectors"
pigz -dc "$boot_img" | partclone.fat32 -r -s - -o "$boot" || fail restore "partclone.fat32 could not restore the boot partition"

if [ "$fit" = 1 ]; then
  ev step restore-root $((fit_sectors * 512)) Writing the shrunk root partition '(partclone.ext4, used blocks)'
  attach root "$p2_start" "$fit_sectors"
  partclone.ext4 -b -s "$scratch" -o "$root" || fail restore "partclone.ext4 could not write the root partition"
else
  ev step restore-root $((p2_sectors * 512)) Restoring the root partition '(partclone.ext4)'
  attach root "$p2_start" "$p2_sectors"
  pigz -dc "$root_img" | partclone.ext4 -r -s - -o "$root" || fail restore "partclone.ext4 could not restore the root partition"
fi
sync
detach_all
[ -z "$work" ] || { rm -rf -- "$work"; work=""; }

# ---------------------------------------------------------------- partition table (last)
ev step table 0 Restoring the partition table
# The dump names the source device and, for GPT, the source's last usable sector: drop both so the
# table fits this card. A shrunk root's partition ends where its file system ends.
grep -v -e '^device:' -e '^last-lba:' "$dump" |
  awk -v fit="$fit" -v s="$p2_start" -v n="${fit_sectors:-0}" -F'[=,]' '
    fit == 1 && /start=/ && $2 + 0 == s { sub(/size=[[:space:]]*[0-9]+/, "size=" n) } { print }' |
  sfdisk -q --wipe always --no-reread --no-tell-kernel "$target" >/dev/null ||
  fail restore "sfdisk could not write the partition table to $target"
geometry 2
[ "$START" = "$p2_start" ] || fail restore "the partition table on $target does not match partition-table.dump"
p2_sectors=$SECTORS
sync

# ---------------------------------------------------------------- grow root to fill the card
if [ "$grow" = 1 ]; then
  ev step grow 0 Growing the root partition to fill the card
  last=$(partx -g -r -o NR "$target" | sort -n | tail -n 1)
  if [ "$last" != 2 ]; then
    ev result grown no
    printf 'root is not the last partition: leaving its size as it is\n'
  else
    [ "$label" = gpt ] && sfdisk -q --relocate gpt-bak-std "$target" >/dev/null 2>&1
    echo ', +' | sfdisk -q -N 2 --no-reread --no-tell-kernel "$target" >/dev/null || fail grow "sfdisk could not grow partition 2"
    geometry 2
    p2_sectors=$SECTORS
    attach root "$p2_start" "$p2_sectors"
    check_fs "restored root file system" "$root"
    resize2fs "$root" >&2 || fail grow "resize2fs could not grow the root file system"
    sync
    detach_all
    ev result grown yes
  fi
fi
ev result root-start "$p2_start"
ev result root-sectors "$p2_sectors"
if [ -b "$target" ]; then
  blockdev --rereadpt "$target" 2>/dev/null || partx -u "$target" 2>/dev/null || true
fi
sync
printf 'restore complete: %s\n' "$target"
