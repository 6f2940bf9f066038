#!/usr/bin/env bash
# Phase 1 Clone: partition-level copy of a card into a clone set directory, as on jdl-mini-box:
#   partition-table.dump      sfdisk --dump of the card
#   sdc1-boot.partclone.gz    partclone.fat32 -c | gzip  (used blocks only)
#   sdc2-root.partclone.gz    partclone.ext4 -c  | gzip  (used blocks only)
#   restore_golden.sh         the standalone restore script
# The images are plain gzip, as the seed's (pigz -dc, gunzip and partclone.chkimg read them), made
# by a deflate that keeps up with a card reader: ISA-L's igzip at levels 1-3 where it is installed,
# else pigz. Each image is checked while it is written: partclone's stream goes to the compressor
# and to partclone.chkimg at once, so nothing is decompressed again afterwards.
# usage: clone_card.sh CARD OUT_DIR [LEVEL [ROOT_IMAGE]]
#   CARD: block device or image file; OUT_DIR: empty or absent; LEVEL: 1-9 (default 2; 4-9: pigz)
#   ROOT_IMAGE "-": stdin carries partition 2's partclone image, made by the host from the card's
#     used blocks as it copied them into CARD (src-main/core/rawio/used-blocks/partclone-image.ts:
#     the bytes partclone.ext4 writes). It is compressed and checked as it arrives. Its first bytes
#     come when everything before partition 2 is in CARD (the boot partition is cloned meanwhile);
#     CARD is complete once stdin ends, and the table is taken from it then.
# shellcheck disable=SC2154 # boot, root, mnt, …: assigned by name (atlas_attach, atlas_mount, atlas_img_path, read -r)
source "$(dirname "${BASH_SOURCE[0]}")/atlas-common.sh"

[ $# -ge 2 ] && [ $# -le 4 ] || atlas_fail usage "usage: clone_card.sh CARD OUT_DIR [LEVEL [ROOT_IMAGE]]"
card=$1
out=$2
level=${3:-2}
root_image=${4:-}
case "$root_image" in '' | -) ;; *) atlas_fail usage "ROOT_IMAGE is - (stdin) or nothing: $root_image" ;; esac
atlas_check_card "$card"
atlas_check_path "output directory" "$out"
case "$level" in [1-9]) ;; *) atlas_fail usage "the compression level is 1 to 9: $level" ;; esac
atlas_require_root
atlas_require_tools sfdisk partx losetup blkid partclone.fat32 partclone.ext4 partclone.chkimg pigz perl
threads=$(nproc 2>/dev/null || echo 2)
if [ "$level" -le 3 ] && command -v igzip >/dev/null 2>&1; then
  compressor=(igzip "-$level" -T "$threads" -c)
else
  compressor=(pigz "-$level" -p "$threads" -c)
fi
atlas_result compressor "${compressor[0]}"
atlas_result compress-level "$level"
if [ -e "$out" ] && [ -n "$(ls -A "$out")" ]; then atlas_fail exists "output directory is not empty: $out"; fi
mkdir -p "$out"

# fanout FILE: stdin to stdout and to FILE (a fifo), as tee does, but through 1 MiB pipes, 1 MiB at a
# time: partclone writes a block and its checksum at a time, and tee's 8 KiB reads through 64 KiB
# pipes cost more system time than the compression (14 s instead of 8-10 s for a 1.7 GB root).
# perl is part of every Debian and Ubuntu system (perl-base is essential); F_SETPIPE_SZ is 1031.
fanout() {
  perl -e '
    open(my $o, ">", $ARGV[0]) or die "fanout: $ARGV[0]: $!\n";
    fcntl($_, 1031, 1 << 20) for \*STDIN, \*STDOUT, $o;
    binmode $_ for \*STDIN, \*STDOUT, $o;
    while (1) {
      my $n = sysread(STDIN, my $b, 1 << 20);
      die "fanout: $!\n" unless defined $n;
      last if $n == 0;
      for my $fh (\*STDOUT, $o) {
        for (my $off = 0; $off < $n;) {
          my $w = syswrite($fh, $b, $n - $off, $off);
          die "fanout: $!\n" unless defined $w;
          $off += $w;
        }
      }
    }' "$1"
}

# clone_part TOOL DEVICE FILE WHAT FIFO ERRS: partclone's image of DEVICE, compressed into FILE and
# checked by partclone.chkimg from the same stream; TOOL "-": the image is on stdin (DEVICE unused).
# FIFO and ERRS are scratch files of the caller's (atlas_tmpfile: removed when the script ends, also
# when clone_part runs in the background).
clone_part() {
  local tool=$1 dev=$2 dest=$3 what=$4 fifo=$5 errs=$6 chk checked=0 st
  rm -f "$fifo" && mkfifo -m 0600 "$fifo"
  # -f 1 (both): partclone and partclone.chkimg end on their progress thread's tick, every 2 s by
  # default (a 4 MB boot partition took 2 s); every second instead.
  partclone.chkimg -s - -f 1 <"$fifo" >/dev/null 2>&1 &
  chk=$!
  set +e
  if [ "$tool" = - ]; then
    fanout "$fifo" | "${compressor[@]}" >"$dest" 2>"$errs"
    st=(0 "${PIPESTATUS[@]}")
  else
    "$tool" -c -s "$dev" -f 1 | fanout "$fifo" | "${compressor[@]}" >"$dest" 2>"$errs"
    st=("${PIPESTATUS[@]}")
  fi
  wait "$chk" || checked=$?
  set -e
  # The compressor first: when it cannot write, partclone and the fan-out end on a broken pipe too.
  if [ "${st[2]}" -ne 0 ]; then
    cat "$errs" >&2
    # Its words (pigz says "No space left"; igzip does not), or less than 1 MiB left there.
    if grep -qi 'no space' "$errs" || [ "$(df -Pk "$(dirname "$dest")" | awk 'NR == 2 { print $4 }')" -lt 1024 ]; then
      atlas_fail no-space "the $what image does not fit in $(dirname "$dest"): free some space and clone again"
    fi
    atlas_fail io "${compressor[0]} could not write $dest (exit ${st[2]}): $(tail -n 1 "$errs")"
  fi
  [ "${st[0]}" -eq 0 ] || atlas_fail tool-failed "$tool could not read the $what partition (exit ${st[0]})"
  [ "$checked" -eq 0 ] || atlas_fail verify "the $what image failed partclone.chkimg"
  [ "${st[1]}" -eq 0 ] || atlas_fail tool-failed "the $what image could not be passed to partclone.chkimg"
}

# The host's image first: the host is still copying CARD while it streams, and ends stdin only
# once CARD is complete. No step is announced: the host's copy reports the progress meanwhile.
atlas_tmpfile root_fifo
atlas_tmpfile root_errs
atlas_tmpfile boot_fifo
atlas_tmpfile boot_errs
atlas_tmpfile boot_out
check_boot_type() {
  local t
  t=$(atlas_fstype "$boot")
  [ "$t" = vfat ] || atlas_fail unsupported "partition 1 is '${t:-unknown}', expected the FAT32 boot partition RPICFG"
}

# The boot partition alongside the root: a few megabytes, but partclone ends on its one-second
# progress tick. Its output waits in a file (its progress is not shown; a failure line of its own is
# passed on by finish_boot, so a failing root clone is the one reported).
start_boot() {
  clone_part partclone.fat32 "$boot" "$out/sdc1-boot.partclone.gz" boot "$boot_fifo" "$boot_errs" \
    >"$boot_out" 2>&1 &
  boot_job=$!
  # A script that fails meanwhile stops it before the loop devices and scratch files go.
  ATLAS_JOBS+=("$boot_job")
}
finish_boot() {
  local status=0
  wait "$boot_job" || status=$?
  ATLAS_JOBS=()
  if [ "$status" -ne 0 ]; then
    cat "$boot_out"
    exit "$status"
  fi
}

if [ "$root_image" = - ]; then
  # The host sends the image's first bytes with the root's first block, when everything before the
  # root (the table, the boot partition) is in CARD already: the boot partition is cloned meanwhile.
  atlas_part_geometry "$card" 1
  atlas_attach boot "$card" "$PART_START" "$PART_SECTORS" ro
  check_boot_type
  start_boot
  clone_part - - "$out/sdc2-root.partclone.gz" root "$root_fifo" "$root_errs"
fi

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

[ -n "${boot:-}" ] || atlas_attach boot "$card" "$p1_start" "$p1_sectors" ro
atlas_attach root "$card" "$p2_start" "$p2_sectors" ro
check_boot_type
root_type=$(atlas_fstype "$root")
[ "$root_type" = ext4 ] || atlas_fail unsupported "partition 2 is '${root_type:-unknown}', expected the ext4 root partition armbi_root"

atlas_step clone-boot $((p1_sectors * 512)) "Cloning the boot partition (partclone.fat32)"
if [ -z "$root_image" ]; then
  start_boot
  atlas_step clone-root $((p2_sectors * 512)) "Cloning the root partition (partclone.ext4)"
  clone_part partclone.ext4 "$root" "$out/sdc2-root.partclone.gz" root "$root_fifo" "$root_errs"
fi
finish_boot

cp "$(dirname "${BASH_SOURCE[0]}")/restore_golden.sh" "$out/restore_golden.sh"
chmod 0755 "$out/restore_golden.sh"
sync -f "$out/sdc2-root.partclone.gz"
atlas_result boot-start "$p1_start"
atlas_result boot-sectors "$p1_sectors"
atlas_result root-start "$p2_start"
atlas_result root-sectors "$p2_sectors"
atlas_result card-bytes "$card_bytes"
atlas_log "clone set written to $out"
