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
# BEGIN atlas_layout (written from src-main/common/card-layout.ts by scripts/sh-blocks.mjs: do not edit)
# shellcheck disable=SC2034 # not every script reads every number
{
  ATLAS_TABLE_SECTORS=2048 # the table area at the card's start: made invalid first, written last
  ATLAS_BACKUP_GPT_SECTORS=33 # the backup GPT at the end of a GPT card
  ATLAS_FIRST_PARTITION_SECTOR=34 # no partition starts before it (the MBR and the primary GPT)
  ATLAS_PARTITION_HEAD_SECTORS=128 # made invalid where each new partition starts
  ATLAS_ROOT_HEADROOM_PERCENT=5 # the root keeps this much over its file system's minimum (percent)
  ATLAS_FIT_MIN_ROOT_SECTORS=2048 # a root fitted onto a smaller card gets more than this
  ATLAS_WORK_RESERVE_BYTES=67108864 # a work folder keeps this much free after a root restored into it
}
atlas_system_mount() { # atlas_system_mount MOUNTPOINT: true when a disk with it holds the running system
  case "$1" in / | /boot | /boot/* | /usr | /var | /home) return 0 ;; esac
  return 1
}
atlas_tail_sectors() { # atlas_tail_sectors LABEL: the sectors a table keeps at the card's end (gpt: the backup GPT)
  if [ "$1" = gpt ]; then echo 33; else echo 0; fi
}
# END atlas_layout
# BEGIN atlas_exit_status (written from ERROR_CODES by scripts/sh-blocks.mjs: do not edit)
atlas_exit_status() { # atlas_exit_status CODE: prints 2 if a failure CODE is the input's fault, else 1
  case "$1" in
    bad-input | busy | exists | not-found | system-disk | too-small | unsafe-target | unsupported | usage | wrong-phase) echo 2 ;;
    *) echo 1 ;;
  esac
}
# END atlas_exit_status
# BEGIN atlas_common (written from the standalone parts of atlas-common.sh by scripts/sh-blocks.mjs: do not edit)
atlas_event() { printf '@@ATLAS %s\n' "$*"; }
atlas_step() { atlas_event step "$1" "$2" "${*:3}"; }
atlas_result() { atlas_event result "$1" "$2"; }
atlas_log() { printf '%s\n' "$*"; }
atlas_size() { # atlas_size BYTES: the size as the app writes it (decimal MB/GB, common/format-bytes.ts)
  awk -v n="$1" 'BEGIN { split("B KB MB GB TB", u, " "); i = 1; while (n >= 1000 && i < 5) { n /= 1000; i++ }
    if (i == 1) printf "%d B", n; else if (n >= 100) printf "%.0f %s", n, u[i]; else printf "%.1f %s", n, u[i] }'
}
# atlas_fail CODE MESSAGE: exit 2 for bad input, 1 otherwise (atlas_exit_status).
atlas_fail() {
  local code=$1
  shift
  atlas_event fail "$code" "$*"
  printf 'error: %s\n' "$*" >&2
  exit "$(atlas_exit_status "$code")"
}
# atlas_card_bytes CARD: its size in bytes (a link is followed, as every other check here follows it).
atlas_card_bytes() {
  if [ -b "$1" ]; then blockdev --getsize64 "$1"; else stat -L -c %s -- "$1"; fi
}
# ---------------------------------------------------------------- partition-table.dump
# atlas_read_dump FILE: reads a clone set's partition-table.dump (the sfdisk -d of the clone's card)
# as hostile input, with the checks of the app's reader (src-main/core/library/partition-dump.ts;
# test/unit/partition-dump.test.ts runs one table of cases through both): only what sfdisk writes
# for a two-partition card (its header lines, partitions 1 and 2 in sectors in its own field
# order), no overlap, exact numbers. Sets DUMP_LABEL (dos | gpt), DUMP_P1_START, DUMP_P1_SECTORS,
# DUMP_P2_START, DUMP_P2_SECTORS; refuses (bad-input) anything else.
atlas_read_dump() {
  local out
  out=$(awk -v first="$ATLAS_FIRST_PARTITION_SECTOR" '
    function bad(why) { print "bad " why; failed = 1; exit }
    function chars(s) { gsub(/[\200-\277]/, "", s); return length(s) } # UTF-8 characters
    function num(v) { return v ~ /^[0-9]+$/ && length(v) <= 15 }
    function hex(v, most) { return v ~ /^[0-9A-Fa-f-]+$/ && length(v) <= most }
    # The field at position i of a partition line (1 start=, 2 size=, 3 type=, then the options).
    function field(f, i) {
      if (i == 1 && sub(/^start= */, "", f)) { start = f; return num(f) }
      if (i == 2 && sub(/^size= */, "", f)) { size = f; return num(f) }
      if (i == 3) return sub(/^type=/, "", f) && hex(f, 36)
      if (i < 3) return 0
      if (f == "bootable") return 1
      if (sub(/^uuid=/, "", f)) return hex(f, 36) && length(f) == 36
      if (f ~ /^name="[^"]*"$/) return chars(f) <= 72 + 7
      if (f ~ /^attrs="[^"]*"$/) return chars(f) <= 200 + 8
      return 0
    }
    # A partition line: "DEVICE : start=  S, size=  Z, type=T[, option]...", DEVICE ending in its
    # number (at most 3 digits). Sets n, start and size.
    function partition(line,   at, dev, rest, f, i, q, r) {
      at = index(line, " : start=")
      if (at < 3) return 0
      dev = substr(line, 1, at - 1); rest = substr(line, at + 3)
      if (dev !~ /^[^[:space:]]/ || dev ~ /\r/ || !match(substr(dev, 2), /[0-9]+$/)) return 0
      n = substr(dev, RSTART + 1); if (length(n) > 3) n = substr(n, length(n) - 2); n += 0
      for (i = 1; ; i++) {
        if (rest ~ /^(name|attrs)="/) { q = index(rest, "\""); r = index(substr(rest, q + 1), "\""); if (!r) return 0; q += r }
        else { q = index(rest, ", "); if (q == 0) q = length(rest) + 1; q-- }
        f = substr(rest, 1, q); rest = substr(rest, q + 1)
        if (!field(f, i)) return 0
        if (rest == "") return i >= 3
        if (substr(rest, 1, 2) != ", ") return 0
        rest = substr(rest, 3)
      }
    }
    /^[[:space:]]*$/ { next }
    chars($0) > 4096 { bad("line " NR " is too long") }
    $0 == "label: dos" || $0 == "label: gpt" { label = substr($0, 8); next }
    /^label-id: [0-9A-Fa-fx-]+$/ && length($0) <= 50 { next }
    /^device: [^[:space:]]/ && !/\r/ { next }
    $0 == "unit: sectors" || $0 == "sector-size: 512" { next }
    /^(first-lba|last-lba|grain|table-length): [0-9]+$/ && num(substr($0, index($0, ": ") + 2)) { next }
    partition($0) { np++; pn[np] = n; ps[np] = start + 0; pz[np] = size + 0; next }
    { bad("line " NR " is not one sfdisk writes") }
    END {
      if (failed) exit
      if (label == "") bad("it has no \"label: dos\" or \"label: gpt\" line")
      if (np != 2 || pn[1] != 1 || pn[2] != 2) bad("it lists " np + 0 " partitions; a clone set has partition 1 (boot) and 2 (root)")
      for (i = 1; i <= 2; i++) {
        if (pz[i] == 0) bad("partition " i " has no size")
        if (ps[i] < first) bad(sprintf("partition %d starts at sector %.0f, inside the partition table", i, ps[i]))
      }
      if (ps[1] + pz[1] > ps[2]) bad("partition 1 runs into partition 2")
      printf "ok %s %.0f %.0f %.0f %.0f\n", label, ps[1], pz[1], ps[2], pz[2]
    }' "$1" 2>&1) || true
  # shellcheck disable=SC2034 # read by the callers
  case "$out" in
    "ok "*) read -r _ DUMP_LABEL DUMP_P1_START DUMP_P1_SECTORS DUMP_P2_START DUMP_P2_SECTORS <<<"$out" ;;
    "bad "*) atlas_fail bad-input "${1##*/} is not a partition table this clone set could have: ${out#bad }" ;;
    *) atlas_fail bad-input "${1##*/} could not be read: $out" ;;
  esac
}

# atlas_dump_for_card START SECTORS: the sfdisk dump on stdin, to be written onto another card:
# without the source's device and last usable sector (so a GPT fits the card), the partition at
# START given SECTORS (0: as it is).
atlas_dump_for_card() {
  grep -v -e '^device:' -e '^last-lba:' |
    awk -v s="$1" -v z="$2" -F'[=,]' 'z > 0 && /start=/ && $2 + 0 == s { sub(/size=[[:space:]]*[0-9]+/, "size=" z) } { print }'
}

# ---------------------------------------------------------------- a root fitted onto a smaller card
# atlas_fit_room START LABEL CARD_BYTES: the room of a root that starts at sector START (the last
# partition) on a card of CARD_BYTES with a LABEL table. Sets FIT_TAIL (the sectors the table keeps
# at the card's end) and FIT_AVAIL (the sectors from START to there); false when that is no more
# than ATLAS_FIT_MIN_ROOT_SECTORS.
atlas_fit_room() {
  FIT_TAIL=$(atlas_tail_sectors "$2")
  FIT_AVAIL=$(($3 / 512 - FIT_TAIL - $1))
  [ "$FIT_AVAIL" -gt "$ATLAS_FIT_MIN_ROOT_SECTORS" ]
}

# atlas_fit_root START BLOCK_SIZE MIN_BLOCKS (after atlas_fit_room): the root's file system, of
# MIN_BLOCKS blocks at its minimum (resize2fs -P), shrunk to end at the card's end. Sets FIT_BLOCKS,
# FIT_SECTORS (its size), FIT_MIN_BYTES (the least card its data needs) and FIT_HEADROOM: ok, or low
# when the card leaves the root less than ATLAS_ROOT_HEADROOM_PERCENT over its minimum. False when
# the data does not fit (FIT_BLOCKS < MIN_BLOCKS).
# shellcheck disable=SC2034 # read by the callers
atlas_fit_root() {
  FIT_BLOCKS=$((FIT_AVAIL * 512 / $2))
  FIT_SECTORS=$((FIT_BLOCKS * $2 / 512))
  FIT_MIN_BYTES=$((($1 + FIT_TAIL) * 512 + $3 * $2))
  FIT_HEADROOM=ok
  [ $((FIT_BLOCKS * 100)) -ge $(($3 * (100 + ATLAS_ROOT_HEADROOM_PERCENT))) ] || FIT_HEADROOM=low
  [ "$FIT_BLOCKS" -ge "$3" ]
}
# atlas_part_of DISK DEV: DEV is DISK or one of its partitions (sdc: sdc1; loop1, mmcblk0: loop1p1,
# mmcblk0p1), never another disk whose name starts the same (loop10, sdca).
atlas_part_of() {
  local disk=$1 dev=$2 rest
  [ "$dev" = "$disk" ] && return 0
  rest=${dev#"$disk"}
  [ "$rest" != "$dev" ] || return 1
  if [[ $disk =~ [0-9]$ ]]; then [[ $rest =~ ^p[0-9]+$ ]]; else [[ $rest =~ ^[0-9]+$ ]]; fi
}
# END atlas_common
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
    atlas_fail loop "could not attach a loop device to $target"
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
  [ -n "$line" ] || atlas_fail restore "partition $1 is missing on $target after writing the table"
  read -r START SECTORS <<<"$line"
}
zero() { # zero SECTOR COUNT: writes zeros over that range of the target
  dd if=/dev/zero of="$target" bs=512 seek="$1" count="$2" conv=notrunc status=none ||
    atlas_fail restore "could not write to $target"
}
check_fs() { # check_fs WHAT DEV: e2fsck -f -y; what it fixed goes to the log and the result
  local what=$1 dev=$2 rc=0 fsck_out fixed
  fsck_out=$(e2fsck -f -y "$dev" 2>&1) || rc=$?
  printf '%s\n' "$fsck_out" >&2
  [ "$rc" -le 2 ] || atlas_fail fsck "e2fsck reported errors on the $what (exit $rc)"
  if [ "$rc" -ne 0 ]; then
    # Never passed silently: what e2fsck fixed goes to the log and the result.
    fixed=$(printf '%s\n' "$fsck_out" | awk '/\? yes$/ { t = $0; sub(/[A-Za-z][A-Za-z ]*\? yes$/, "", t); gsub(/^[[:space:]]+|[[:space:]]+$/, "", t); if (t == "") t = prev; n++; if (n <= 8) s = s (n > 1 ? "; " : "") t; next } NF { prev = $0 } END { if (n > 8) s = s "; and " (n - 8) " more"; print s }')
    printf 'e2fsck changed the %s: %s\n' "$what" "${fixed:-see its output above}"
    atlas_result fsck-fixed "restored root: ${fixed:-the file system was modified}"
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
  [ "${#b[@]}" -ge 64 ] || atlas_fail bad-input "$why: it is not gzip-compressed partclone data"
  # "partclone-image", byte by byte
  [ "${b[*]:0:15}" = "112 97 114 116 99 108 111 110 101 45 105 109 97 103 101" ] ||
    atlas_fail bad-input "$why: it does not start with partclone's magic"
  case "${b[*]:30:4}" in
    "48 48 48 50") # 0002
      [ "${#b[@]}" -ge 110 ] || atlas_fail bad-input "$why: its header is cut short"
      _pc_u64 PC_TOTAL 60 && _pc_u64 PC_USED 68 && _pc_u64 used2 76 || atlas_fail bad-input "$why: a count in its header is out of range"
      [ "$used2" -le "$PC_USED" ] || PC_USED=$used2
      PC_BLOCK_SIZE=$((b[84] | b[85] << 8 | b[86] << 16 | b[87] << 24))
      ;;
    "48 48 48 49") # 0001
      _pc_u64 PC_TOTAL 48 && _pc_u64 PC_USED 56 || atlas_fail bad-input "$why: a count in its header is out of range"
      PC_BLOCK_SIZE=$((b[36] | b[37] << 8 | b[38] << 16 | b[39] << 24))
      ;;
    *) atlas_fail bad-input "$why: its image format is not one partclone writes" ;;
  esac
  case "$PC_BLOCK_SIZE" in
    512 | 1024 | 2048 | 4096 | 8192 | 16384 | 32768 | 65536) ;;
    *) atlas_fail bad-input "$why: its block size $PC_BLOCK_SIZE is not a power of two from 512 to 65536" ;;
  esac
  [ "$PC_USED" -le "$PC_TOTAL" ] || atlas_fail bad-input "$why: it has more used blocks ($PC_USED) than blocks ($PC_TOTAL)"
}
_pc_u64() { # _pc_u64 VAR OFFSET: the little-endian u64 at OFFSET of partclone_head's b; false past 2^48
  local o=$2
  [ "${b[o + 6]}" -eq 0 ] && [ "${b[o + 7]}" -eq 0 ] || return 1
  printf -v "$1" '%d' $((b[o] | b[o + 1] << 8 | b[o + 2] << 16 | b[o + 3] << 24 | b[o + 4] << 32 | b[o + 5] << 40))
}

# ---------------------------------------------------------------- checks (nothing written yet)
[ -n "$target" ] || atlas_fail usage "usage: sudo bash restore_golden.sh /dev/sdX"
case "$target$work_base" in *$'\n'*) atlas_fail bad-input "a path contains a line break" ;; esac
[ "$(id -u)" -eq 0 ] || atlas_fail permission "run as root: sudo bash restore_golden.sh $target"
for t in sfdisk partx losetup partclone.fat32 partclone.ext4 pigz e2fsck resize2fs dumpe2fs; do
  command -v "$t" >/dev/null 2>&1 || atlas_fail missing-tool "$t is not installed (apt-get install partclone pigz fdisk e2fsprogs)"
done
dump="$set_dir/partition-table.dump"
boot_img="$set_dir/sdc1-boot.partclone.gz"
root_img="$set_dir/sdc2-root.partclone.gz"
for f in "$dump" "$boot_img" "$root_img"; do
  # A set may come from anyone: a link is never followed (it could lead to a secret), and only a
  # regular file is read (a pipe could block forever).
  if [ -L "$f" ]; then atlas_fail bad-input "the clone set's ${f##*/} is a link; a clone set holds regular files only, and nothing of it was read"; fi
  if [ -e "$f" ] && [ ! -f "$f" ]; then atlas_fail bad-input "the clone set's ${f##*/} is not a regular file; nothing of it was read"; fi
  [ -s "$f" ] || atlas_fail not-found "the clone set is incomplete: $f is missing"
done
[ -b "$target" ] || [ -f "$target" ] || atlas_fail not-found "no such card or image: $target"
target_bytes=$(atlas_card_bytes "$target")

# The dump comes with the set and goes to sfdisk: only what sfdisk writes for a two-partition card
# is read, as the app reads it (atlas_read_dump).
atlas_read_dump "$dump"
label=$DUMP_LABEL
p1_start=$DUMP_P1_START p1_sectors=$DUMP_P1_SECTORS
p2_start=$DUMP_P2_START p2_sectors=$DUMP_P2_SECTORS
# The last sector the clone needs (root's end, partition 1 ends before it), plus the table's tail
# (the backup GPT at the end of a GPT card).
tail_sectors=$(atlas_tail_sectors "$label")
need_bytes=$(((p2_start + p2_sectors + tail_sectors) * 512))
atlas_result need-bytes "$need_bytes"
atlas_result target-bytes "$target_bytes"
target_sectors=$((target_bytes / 512))
# The images' headers: their file systems must fit their partitions, and the root's data the card.
partclone_head "$boot_img" sdc1-boot.partclone.gz
[ $((PC_TOTAL * PC_BLOCK_SIZE)) -le $((p1_sectors * 512)) ] ||
  atlas_fail bad-input "sdc1-boot.partclone.gz holds a file system of $(atlas_size $((PC_TOTAL * PC_BLOCK_SIZE))) (its partclone header), larger than partition 1 in partition-table.dump ($(atlas_size $((p1_sectors * 512))))"
partclone_head "$root_img" sdc2-root.partclone.gz
[ $((PC_TOTAL * PC_BLOCK_SIZE)) -le $((p2_sectors * 512)) ] ||
  atlas_fail bad-input "sdc2-root.partclone.gz holds a file system of $(atlas_size $((PC_TOTAL * PC_BLOCK_SIZE))) (its partclone header), larger than partition 2 in partition-table.dump ($(atlas_size $((p2_sectors * 512))))"
root_data=$((PC_USED * PC_BLOCK_SIZE))
least=$(((p2_start + tail_sectors) * 512 + root_data))
[ "$target_bytes" -ge "$least" ] ||
  atlas_fail too-small "the card is too small for this clone's data: it has $(atlas_size "$target_bytes"), the data needs at least $(atlas_size "$least") (the root file system's used blocks, $PC_USED of $PC_BLOCK_SIZE bytes by its partclone header, from sector $p2_start); nothing was written (use a card of at least $(((least + 999999) / 1000000)) MB)"
# fit=1: the card is smaller than the clone's card; root (the last partition) is shrunk to fit.
fit=0
if [ "$target_bytes" -lt "$need_bytes" ]; then
  if ! atlas_fit_room "$p2_start" "$label" "$target_bytes"; then
    atlas_fail too-small "the card is too small: it has $(atlas_size "$target_bytes"), this clone needs $(atlas_size "$need_bytes") (use a larger card, or flash a shrunk ods-atlas-clone image instead)"
  fi
  fit=1
fi

# ---------------------------------------------------------------- a smaller card: shrink root first
# Nothing is written to the card here: the root is restored into a sparse file in the work folder,
# checked, and shrunk to end at the card's end; a card too small for its data is refused.
if [ "$fit" = 1 ]; then
  [ -n "$work_base" ] || work_base=$(dirname -- "$set_dir")
  # The root's data is restored into the work folder first: it must fit there with
  # ATLAS_WORK_RESERVE_BYTES to spare, or the folder's disk would be filled (as root, reserved
  # blocks included).
  free=$(df --output=avail -B1 -- "$work_base" 2>/dev/null | tail -n 1) || free=""
  free=${free// /}
  [ -n "$free" ] || atlas_fail no-space "could not tell the free space of the work folder $work_base"
  [ "$free" -ge $((root_data + ATLAS_WORK_RESERVE_BYTES)) ] ||
    atlas_fail no-space "the work folder $work_base has $(atlas_size "$free") free; fitting this clone to a smaller card restores its root file system there first, which needs $(atlas_size $((root_data + ATLAS_WORK_RESERVE_BYTES))) (its $(atlas_size "$root_data") of data by its partclone header, and $((ATLAS_WORK_RESERVE_BYTES / 1048576)) MiB to spare); nothing was decompressed or written (pass --work-dir DIR with room, or use a card as large as the clone's card)"
  atlas_step fit-restore $((p2_sectors * 512)) Restoring the root file system into the work folder '(partclone.ext4)'
  work=$(mktemp -d "$work_base/.atlas-restore.XXXXXX") ||
    atlas_fail no-space "could not make a work folder in $work_base (pass --work-dir DIR with room for the root file system's data)"
  truncate -s $((p2_sectors * 512)) "$work/root.fs" || atlas_fail no-space "could not make $work/root.fs"
  scratch=$(losetup --find --show -- "$work/root.fs") || atlas_fail loop "could not attach a loop device to $work/root.fs"
  LOOPS+=("$scratch")
  if ! pigz -dc "$root_img" | partclone.ext4 -r -s - -o "$scratch"; then
    free=$(df --output=avail -B1 -- "$work" | tail -n 1)
    [ "${free// /}" -gt "$ATLAS_WORK_RESERVE_BYTES" ] ||
      atlas_fail no-space "the work folder $work_base ran out of space restoring the root file system (free some space, or pass --work-dir DIR); nothing was written to $target"
    atlas_fail restore "partclone.ext4 could not restore the root file system into $work; nothing was written to $target"
  fi
  atlas_step fit-check 0 Checking the restored root file system '(e2fsck -f)'
  check_fs "restored root file system" "$scratch"
  # The tools' own words go to the log and into the failure.
  fs_out=$(dumpe2fs -h "$scratch" 2>&1) || true
  block_size=$(printf '%s\n' "$fs_out" | awk -F: '/^Block size/ { gsub(/[[:space:]]/, "", $2); print $2 }')
  [ -n "$block_size" ] || { printf '%s\n' "$fs_out" >&2; atlas_fail fsck "could not read the root file system's block size (dumpe2fs -h): $(printf '%s\n' "$fs_out" | grep -v '^[[:space:]]*$' | tail -n 2 | tr '\n' ' ')"; }
  fs_out=$(resize2fs -P "$scratch" 2>&1) || true
  min_blocks=$(printf '%s\n' "$fs_out" | awk -F': ' '/minimum size/ { print $2 + 0 }')
  [ -n "$min_blocks" ] && [ "$min_blocks" -gt 0 ] || { printf '%s\n' "$fs_out" >&2; atlas_fail fsck "could not read the root file system's minimum size (resize2fs -P): $(printf '%s\n' "$fs_out" | grep -v '^[[:space:]]*$' | tail -n 2 | tr '\n' ' ')"; }
  fits=yes
  atlas_fit_root "$p2_start" "$block_size" "$min_blocks" || fits=no
  atlas_result min-bytes "$FIT_MIN_BYTES"
  if [ "$fits" = no ]; then
    atlas_fail too-small "the card is too small for this clone's data: it has $(atlas_size "$target_bytes"), the data needs at least $(atlas_size "$FIT_MIN_BYTES") (the root file system at its minimum, $min_blocks blocks of $block_size bytes, from sector $p2_start); nothing was written (use a card of at least $(((FIT_MIN_BYTES + 999999) / 1000000)) MB)"
  fi
  if [ "$FIT_HEADROOM" = low ]; then
    printf 'the card leaves the root less than the %s%% headroom over its minimum\n' "$ATLAS_ROOT_HEADROOM_PERCENT"
    atlas_result headroom low
  fi
  atlas_step fit-shrink 0 Shrinking the root file system to fit the card '(resize2fs)'
  resize2fs "$scratch" "$FIT_BLOCKS" >&2 ||
    atlas_fail too-small "resize2fs could not shrink the root file system to $(atlas_size $((FIT_BLOCKS * block_size))); nothing was written to $target (use a larger card)"
  fit_sectors=$FIT_SECTORS
  atlas_result shrunk-to "$((fit_sectors * 512))"
fi

# ---------------------------------------------------------------- unmount
atlas_step unmount 0 Unmounting the target
if [ -b "$target" ]; then
  real=$(readlink -f "$target")
  while read -r src mnt _; do
    atlas_part_of "$real" "$src" || continue
    if atlas_system_mount "$mnt"; then atlas_fail system-disk "$target holds the running system ($mnt): refusing"; fi
    umount "$mnt" || atlas_fail busy "could not unmount $mnt (close whatever uses it)"
  done </proc/mounts
fi

# ---------------------------------------------------------------- invalidate the old card
# Whatever made the old card look valid goes first (its table, its backup GPT, file system heads
# where the new partitions start); the new table is written last. An interrupted restore leaves a
# card without a table, never an old or half-new card that looks finished.
atlas_step invalidate 0 Clearing the old partition table
zero 0 "$ATLAS_TABLE_SECTORS"
if [ "$target_sectors" -gt $((ATLAS_TABLE_SECTORS + ATLAS_BACKUP_GPT_SECTORS)) ]; then
  zero $((target_sectors - ATLAS_BACKUP_GPT_SECTORS)) "$ATLAS_BACKUP_GPT_SECTORS"
fi
zero "$p1_start" "$ATLAS_PARTITION_HEAD_SECTORS"
zero "$p2_start" "$ATLAS_PARTITION_HEAD_SECTORS"
sync

# ---------------------------------------------------------------- partitions
atlas_step restore-boot $((p1_sectors * 512)) Restoring the boot partition '(partclone.fat32)'
attach boot "$p1_start" "$p1_sectors"
pigz -dc "$boot_img" | partclone.fat32 -r -s - -o "$boot" || atlas_fail restore "partclone.fat32 could not restore the boot partition"

if [ "$fit" = 1 ]; then
  atlas_step restore-root $((fit_sectors * 512)) Writing the shrunk root partition '(partclone.ext4, used blocks)'
  attach root "$p2_start" "$fit_sectors"
  partclone.ext4 -b -s "$scratch" -o "$root" || atlas_fail restore "partclone.ext4 could not write the root partition"
else
  atlas_step restore-root $((p2_sectors * 512)) Restoring the root partition '(partclone.ext4)'
  attach root "$p2_start" "$p2_sectors"
  pigz -dc "$root_img" | partclone.ext4 -r -s - -o "$root" || atlas_fail restore "partclone.ext4 could not restore the root partition"
fi
sync
detach_all
[ -z "$work" ] || { rm -rf -- "$work"; work=""; }

# ---------------------------------------------------------------- partition table (last)
atlas_step table 0 Restoring the partition table
# The dump names the source device and, for GPT, the source's last usable sector: drop both so the
# table fits this card. A shrunk root's partition ends where its file system ends.
atlas_dump_for_card "$p2_start" "${fit_sectors:-0}" <"$dump" |
  sfdisk -q --wipe always --no-reread --no-tell-kernel "$target" >/dev/null ||
  atlas_fail restore "sfdisk could not write the partition table to $target"
geometry 2
[ "$START" = "$p2_start" ] || atlas_fail restore "the partition table on $target does not match partition-table.dump"
p2_sectors=$SECTORS
sync

# ---------------------------------------------------------------- grow root to fill the card
if [ "$grow" = 1 ]; then
  atlas_step grow 0 Growing the root partition to fill the card
  last=$(partx -g -r -o NR "$target" | sort -n | tail -n 1)
  if [ "$last" != 2 ]; then
    atlas_result grown no
    printf 'root is not the last partition: leaving its size as it is\n'
  else
    [ "$label" = gpt ] && sfdisk -q --relocate gpt-bak-std "$target" >/dev/null 2>&1
    echo ', +' | sfdisk -q -N 2 --no-reread --no-tell-kernel "$target" >/dev/null || atlas_fail grow "sfdisk could not grow partition 2"
    geometry 2
    p2_sectors=$SECTORS
    attach root "$p2_start" "$p2_sectors"
    check_fs "restored root file system" "$root"
    resize2fs "$root" >&2 || atlas_fail grow "resize2fs could not grow the root file system"
    sync
    detach_all
    atlas_result grown yes
  fi
fi
atlas_result root-start "$p2_start"
atlas_result root-sectors "$p2_sectors"
if [ -b "$target" ]; then
  blockdev --rereadpt "$target" 2>/dev/null || partx -u "$target" 2>/dev/null || true
fi
sync
printf 'restore complete: %s\n' "$target"
