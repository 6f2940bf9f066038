# shellcheck shell=bash
# Shared helpers for the Atlas builder scripts (sourced, never run directly).
#
# Progress protocol: every line on stdout that starts with "@@ATLAS " is an event for the app:
#   @@ATLAS step ID TOTAL_BYTES LABEL...   a new step begins (TOTAL_BYTES may be 0 when unknown)
#   @@ATLAS progress DONE TOTAL            bytes done in the current step
#   @@ATLAS result KEY VALUE               a fact about the result
#   @@ATLAS fail CODE MESSAGE...           the reason the script is about to exit non-zero
# Anything else is log text. partclone's own progress lines go to stderr untouched.
set -euo pipefail
umask 022
export LC_ALL=C

ATLAS_LOOPS=()
ATLAS_MOUNTS=()
ATLAS_TMPDIRS=()
ATLAS_TMPFILES=()
ATLAS_JOBS=() # background jobs of the script's own: stopped (their children first) when it ends

# The parts between "# BEGIN standalone" and "# END standalone" are also in restore_golden.sh,
# which travels alone inside every clone set: scripts/sh-blocks.mjs copies them there (npm run
# build), and npm run lint fails when the copy differs. They use nothing outside those parts but
# the generated blocks (atlas_exit_status, atlas_layout).

# BEGIN standalone
atlas_event() { printf '@@ATLAS %s\n' "$*"; }
atlas_step() { atlas_event step "$1" "$2" "${*:3}"; }
atlas_result() { atlas_event result "$1" "$2"; }
atlas_log() { printf '%s\n' "$*"; }
atlas_size() { # atlas_size BYTES: the size as the app writes it (decimal MB/GB, common/format-bytes.ts)
  awk -v n="$1" 'BEGIN { split("B KB MB GB TB", u, " "); i = 1; while (n >= 1000 && i < 5) { n /= 1000; i++ }
    if (i == 1) printf "%d B", n; else if (n >= 100) printf "%.0f %s", n, u[i]; else printf "%.1f %s", n, u[i] }'
}
# END standalone

# BEGIN atlas_exit_status (written from ERROR_CODES by scripts/sh-blocks.mjs: do not edit)
atlas_exit_status() { # atlas_exit_status CODE: prints 2 if a failure CODE is the input's fault, else 1
  case "$1" in
    bad-input | busy | exists | not-found | system-disk | too-small | unsafe-target | unsupported | usage | wrong-phase) echo 2 ;;
    *) echo 1 ;;
  esac
}
# END atlas_exit_status

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

# BEGIN standalone
# atlas_fail CODE MESSAGE: exit 2 for bad input, 1 otherwise (atlas_exit_status).
atlas_fail() {
  local code=$1
  shift
  atlas_event fail "$code" "$*"
  printf 'error: %s\n' "$*" >&2
  exit "$(atlas_exit_status "$code")"
}
# END standalone

atlas_cleanup() {
  local rc=$?
  local i
  for i in "${ATLAS_JOBS[@]}"; do
    pkill -TERM -P "$i" 2>/dev/null || true
    kill -TERM "$i" 2>/dev/null || true
    wait "$i" 2>/dev/null || true
  done
  for ((i = ${#ATLAS_MOUNTS[@]} - 1; i >= 0; i--)); do
    umount "${ATLAS_MOUNTS[$i]}" 2>/dev/null || umount -l "${ATLAS_MOUNTS[$i]}" 2>/dev/null || true
  done
  for ((i = ${#ATLAS_LOOPS[@]} - 1; i >= 0; i--)); do
    losetup -d "${ATLAS_LOOPS[$i]}" 2>/dev/null || true
  done
  # Files first: a scratch folder's own files go before the folder.
  for i in "${ATLAS_TMPFILES[@]}"; do rm -f "$i"; done
  for i in "${ATLAS_TMPDIRS[@]}"; do rmdir "$i" 2>/dev/null || true; done
  return "$rc"
}
trap atlas_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# atlas_tmpfile VAR: a 0600 scratch file, removed when the script ends (however it ends).
atlas_tmpfile() {
  local _f
  _f=$(mktemp /tmp/atlas-tmp.XXXXXX) || atlas_fail io "could not create a scratch file in /tmp"
  ATLAS_TMPFILES+=("$_f")
  printf -v "$1" '%s' "$_f"
}

atlas_require_root() {
  [ "$(id -u)" -eq 0 ] || atlas_fail permission "this step needs root: run it with sudo"
}

atlas_require_tools() {
  local t missing=()
  for t in "$@"; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
  [ ${#missing[@]} -eq 0 ] || atlas_fail missing-tool "missing tools: ${missing[*]} (install them, or run 'ods-sd vm doctor')"
}

# A path argument: no newlines, no leading dash (never read as an option).
atlas_check_path() {
  local what=$1 p=$2
  [ -n "$p" ] || atlas_fail usage "$what is empty"
  case "$p" in
    -*) atlas_fail bad-input "$what must not start with '-': $p" ;;
    *$'\n'* | *$'\r'*) atlas_fail bad-input "$what contains a line break" ;;
  esac
}

# A card is a block device or a regular image file.
atlas_check_card() {
  local card=$1
  atlas_check_path card "$card"
  if [ -b "$card" ]; then return 0; fi
  [ -e "$card" ] || atlas_fail not-found "no such card or image: $card"
  [ -f "$card" ] || atlas_fail bad-input "not a block device or image file: $card"
}

# BEGIN standalone
# atlas_card_bytes CARD: its size in bytes (a link is followed, as every other check here follows it).
atlas_card_bytes() {
  if [ -b "$1" ]; then blockdev --getsize64 "$1"; else stat -L -c %s -- "$1"; fi
}
# END standalone

# atlas_part_geometry CARD N: sets PART_START and PART_SECTORS (512-byte sectors) of partition N.
atlas_part_geometry() {
  local line
  line=$(partx -g -r -o NR,START,SECTORS "$1" 2>/dev/null | awk -v n="$2" '$1 == n { print $2, $3 }') || true
  [ -n "$line" ] || atlas_fail bad-input "$1 has no partition $2 (is it an SD-card image?)"
  # shellcheck disable=SC2034 # read by the callers
  read -r PART_START PART_SECTORS <<<"$line"
}

atlas_table_label() { # dos | gpt
  { sfdisk --dump "$1" 2>/dev/null || true; } | awk '/^label:/ { print $2; exit }'
}

# BEGIN standalone
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
# END standalone

# atlas_attach VAR CARD START SECTORS [ro|rw]: sets VAR to a loop device over that range.
# (Not a command substitution: the loop must be recorded in this shell so cleanup detaches it.)
atlas_attach() {
  local _var=$1 _card=$2 _start=$3 _sectors=$4 _mode=${5:-ro} _losetup_opts=() _dev
  [ "$_mode" = ro ] && _losetup_opts+=(--read-only)
  _dev=$(losetup --find --show "${_losetup_opts[@]}" --offset $((_start * 512)) --sizelimit $((_sectors * 512)) -- "$_card") ||
    atlas_fail loop "could not attach a loop device to $_card (are loop devices available?)"
  ATLAS_LOOPS+=("$_dev")
  printf -v "$_var" '%s' "$_dev"
}

# atlas_attach_root VAR IMAGE WHY: attaches IMAGE's partition 2, the root, read-write as VAR, refusing
# an image cut short before that partition's end, or a partition 2 that is not ext4 (the message
# ends with WHY). Leaves PART_START and PART_SECTORS set to the partition's geometry.
atlas_attach_root() {
  atlas_part_geometry "$2" 2
  [ $(((PART_START + PART_SECTORS) * 512)) -le "$(stat -L -c %s -- "$2")" ] ||
    atlas_fail bad-input "the image is truncated (partition 2 ends past its end)"
  atlas_attach "$1" "$2" "$PART_START" "$PART_SECTORS" rw
  [ "$(atlas_fstype "${!1}")" = ext4 ] || atlas_fail unsupported "partition 2 is not ext4: $3"
}

atlas_detach() {
  local dev=$1 i
  losetup -d "$dev" 2>/dev/null || true
  for i in "${!ATLAS_LOOPS[@]}"; do [ "${ATLAS_LOOPS[$i]}" = "$dev" ] && unset 'ATLAS_LOOPS[i]'; done
  ATLAS_LOOPS=("${ATLAS_LOOPS[@]}")
}

atlas_mount() { # atlas_mount VAR DEV [ro|rw]: mounts the ext4 on DEV, sets VAR to the mountpoint
  local _var=$1 _dev=$2 _mode=${3:-ro} _dir
  _dir=$(mktemp -d /tmp/atlas-mnt.XXXXXX)
  ATLAS_TMPDIRS+=("$_dir")
  # nosymfollow: the kernel follows no symlink on this mount, so no tool can be led out of the
  # image by one; paths inside it are resolved by atlas_img_path (below) as the image's root would.
  local _opts=nodev,nosuid,noexec,nosymfollow _err
  [ "$_mode" = ro ] && _opts=ro,noload,$_opts
  if ! _err=$(mount -t ext4 -o "$_opts" "$_dev" "$_dir" 2>&1); then
    _err=${_err%%$'\n'*}
    _err=${_err##*: }
    atlas_fail mount "could not mount the root file system ($_mode): ${_err%.}. It may be damaged: 'ods-sd inspect' says what is wrong; repair it with e2fsck -f on that partition"
  fi
  ATLAS_MOUNTS+=("$_dir")
  printf -v "$_var" '%s' "$_dir"
}

atlas_umount() {
  local dir=$1 i
  umount "$dir"
  for i in "${!ATLAS_MOUNTS[@]}"; do [ "${ATLAS_MOUNTS[$i]}" = "$dir" ] && unset 'ATLAS_MOUNTS[i]'; done
  ATLAS_MOUNTS=("${ATLAS_MOUNTS[@]}")
}

atlas_fstype() { blkid -p -o value -s TYPE "$1" 2>/dev/null || true; }

# BEGIN standalone
# atlas_part_of DISK DEV: DEV is DISK or one of its partitions (sdc: sdc1; loop1, mmcblk0: loop1p1,
# mmcblk0p1), never another disk whose name starts the same (loop10, sdca).
atlas_part_of() {
  local disk=$1 dev=$2 rest
  [ "$dev" = "$disk" ] && return 0
  rest=${dev#"$disk"}
  [ "$rest" != "$dev" ] || return 1
  if [[ $disk =~ [0-9]$ ]]; then [[ $rest =~ ^p[0-9]+$ ]]; else [[ $rest =~ ^[0-9]+$ ]]; fi
}
# END standalone

# Refuses a block device that holds a mounted system file system; unmounts the others.
atlas_release_device() {
  local card=$1 src target
  [ -b "$card" ] || return 0
  local real
  real=$(readlink -f "$card")
  while read -r src target _; do
    atlas_part_of "$real" "$src" || continue
    if atlas_system_mount "$target"; then atlas_fail system-disk "$card holds the mounted system file system $target: refusing"; fi
    umount "$target" || atlas_fail busy "could not unmount $target on $card (close whatever uses it)"
  done </proc/mounts
}

# atlas_e2fsck DEV [WHEN [OPTION...]]: e2fsck -f -y [OPTION...]. Exit codes: 0 clean, 1 errors fixed, 2 fixed + reboot,
# anything else is a failure. A file system e2fsck changed is never passed silently: what it fixed
# goes to the log and to "@@ATLAS result fsck-fixed WHEN: problem (answer); ..." (the manifest's notes).
atlas_e2fsck() {
  local dev=$1 when=${2:-check} extra=("${@:3}") rc=0 out fixed said
  atlas_tmpfile out
  e2fsck -f -y "${extra[@]}" "$dev" >"$out" 2>&1 || rc=$?
  cat "$out" >&2
  if [ "$rc" -eq 1 ] || [ "$rc" -eq 2 ]; then
    fixed=$(atlas_fsck_fixes <"$out")
    atlas_log "e2fsck changed the root file system ($when): ${fixed:-see its output above}"
    atlas_result fsck-fixed "$when: ${fixed:-the file system was modified}"
  fi
  said=$(atlas_tool_words "$(cat "$out")")
  rm -f "$out"
  [ "$rc" -le 2 ] && return 0
  # e2fsck(8): 4 errors left uncorrected; 8 an operational error (it could not open or read the
  # device); anything else (16 usage, 32 cancelled) is not the file system's fault either.
  if [ $((rc & 4)) -ne 0 ]; then
    atlas_fail fsck "e2fsck found errors it could not fix on the root file system ($when, exit $rc: ${said:-no output}): the card's file system is damaged; repair it on the device or use another card"
  fi
  atlas_fail fsck "e2fsck could not check the root file system ($when, exit $rc: ${said:-no output}): make sure nothing else uses the card or image, then try again"
}

# atlas_tool_words OUTPUT: what a tool said, for an error message: its last 3 lines that say
# something (not its version banner), on one line.
atlas_tool_words() {
  printf '%s\n' "$1" | grep -v -e '^[a-z0-9]* [0-9][0-9.]* ([0-9]' -e '^[[:space:]]*$' | tail -n 3 | tr '\n' ' ' | sed 's/ *$//'
}

# atlas_fs_field VAR DEV FIELD: a field of the ext4 superblock on DEV (dumpe2fs -h: "Block count",
# "Block size"). When it cannot be read the failure carries dumpe2fs's own words, also in the log.
atlas_fs_field() {
  local _out _rc=0 _v
  _out=$(dumpe2fs -h "$2" 2>&1) || _rc=$?
  _v=$(printf '%s\n' "$_out" | awk -F: -v f="$3" '$1 == f { gsub(/[[:space:]]/, "", $2); print $2; exit }')
  if [ "$_rc" -ne 0 ] || [ -z "$_v" ]; then
    printf '%s\n' "$_out" >&2
    atlas_fail shrink "could not read the root file system's $3 (dumpe2fs -h, exit $_rc): $(atlas_tool_words "$_out")"
  fi
  printf -v "$1" '%s' "$_v"
}

# atlas_fs_min VAR DEV: the minimum size in blocks resize2fs -P estimates for the ext4 on DEV. When it
# cannot be read the failure carries resize2fs's own words, also in the log.
atlas_fs_min() {
  local _out _rc=0 _v
  _out=$(resize2fs -P "$2" 2>&1) || _rc=$?
  _v=$(printf '%s\n' "$_out" | awk -F: '/minimum size/ { gsub(/[[:space:]]/, "", $2); print $2; exit }')
  if [ "$_rc" -ne 0 ] || [ -z "$_v" ]; then
    printf '%s\n' "$_out" >&2
    atlas_fail shrink "could not read the root file system's minimum size (resize2fs -P, exit $_rc): $(atlas_tool_words "$_out")"
  fi
  printf -v "$1" '%s' "$_v"
}

# What e2fsck -y output says it fixed, on one line: "problem (Fix? yes); ..." (at most 8 items).
atlas_fsck_fixes() {
  awk '
    /^[[:space:]]*$/ { next }
    /\? yes$/ {
      t = $0
      match(t, /[A-Za-z][A-Za-z ]*\? yes$/)
      a = substr(t, RSTART); t = substr(t, 1, RSTART - 1)
      gsub(/^[[:space:]]+|[[:space:]]+$/, "", t)
      if (t == "") t = prev
      n++
      if (n <= 8) items = items (n > 1 ? "; " : "") t " (" a ")"
      next
    }
    { prev = $0; gsub(/^[[:space:]]+|[[:space:]]+$/, "", prev) }
    END { if (n > 8) items = items "; and " (n - 8) " more"; print items }
  '
}

# ---------------------------------------------------------------- paths inside an image
# A mounted image's root (ROOT, from atlas_mount) is untrusted: any directory in it may be a
# symlink to /etc or ../../.. . Scripts never touch "$ROOT/some/path" themselves: they go through
# the functions below, which resolve an in-image PATH component by component as the image's own
# root would (an absolute link starts again at ROOT, ".." stops at ROOT, at most 40 links, so a
# loop is refused) and hand the tools a path made of real directories only. The mount's
# nosymfollow option backs this up: a path that still held a symlink would fail, never escape.

ATLAS_IMG_MAXLINKS=40

# atlas_img_walk VAR ROOT PATH follow|nofollow (the non-fatal form): sets VAR to the in-image path (starting with /,
# no symlinks in it but, with nofollow, the last component). Returns 1 with ATLAS_IMG_ERR set
# when the path cannot be resolved (symlink loop, bad path).
atlas_img_walk() {
  local __var=$1 __root=$2 __path=$3 __last=$4 __done="" __comp __target __links=0
  local -a __todo __more
  ATLAS_IMG_ERR=""
  case "$__path" in
    /*) ;;
    *) ATLAS_IMG_ERR="not an absolute path: $__path"; return 1 ;;
  esac
  case "$__path" in *$'\n'* | *$'\r'*) ATLAS_IMG_ERR="path contains a line break"; return 1 ;; esac
  IFS=/ read -r -a __todo <<<"$__path"
  while [ ${#__todo[@]} -gt 0 ]; do
    __comp=${__todo[0]}
    __todo=("${__todo[@]:1}")
    case "$__comp" in
      '' | .) continue ;;
      ..) __done=${__done%/*}; continue ;;
    esac
    if [ -L "$__root$__done/$__comp" ] && { [ "$__last" = follow ] || _atlas_img_more "${__todo[@]}"; }; then
      __links=$((__links + 1))
      if [ "$__links" -gt "$ATLAS_IMG_MAXLINKS" ]; then
        ATLAS_IMG_ERR="$__path: too many levels of symbolic links (a symlink loop in the image)"
        return 1
      fi
      __target=$(readlink -- "$__root$__done/$__comp") || { ATLAS_IMG_ERR="$__path: unreadable symlink"; return 1; }
      case "$__target" in
        '') ATLAS_IMG_ERR="$__path: empty symlink"; return 1 ;;
        *$'\n'* | *$'\r'*) ATLAS_IMG_ERR="$__path: symlink target contains a line break"; return 1 ;;
        /*) __done="" ;;
      esac
      IFS=/ read -r -a __more <<<"$__target"
      __todo=("${__more[@]}" "${__todo[@]}")
    else
      __done="$__done/$__comp"
    fi
  done
  printf -v "$__var" '%s' "${__done:-/}"
}

# True when a component list still names something (not only "" and ".").
_atlas_img_more() {
  local c
  for c in "$@"; do case "$c" in '' | .) ;; *) return 0 ;; esac; done
  return 1
}

# atlas_img_path VAR ROOT PATH: VAR = the host path of in-image PATH, every symlink followed
# inside the image. atlas_img_lpath: the same, but the last component is the entry itself (a
# symlink there is not followed). Both refuse (atlas_fail bad-input) a path that cannot resolve.
# (Callers' variable names must not start with __.)
atlas_img_path() {
  local __in
  atlas_img_walk __in "$2" "$3" follow || atlas_fail bad-input "in the image: $ATLAS_IMG_ERR"
  printf -v "$1" '%s' "$2$__in"
}
atlas_img_lpath() {
  local __in
  atlas_img_walk __in "$2" "$3" nofollow || atlas_fail bad-input "in the image: $ATLAS_IMG_ERR"
  printf -v "$1" '%s' "$2$__in"
}

# atlas_img_test OP ROOT PATH: test -e/-f/-d (symlinks followed in the image) or -L (the entry).
# False, never fatal, when the path cannot resolve.
atlas_img_test() {
  local _op=$1 _root=$2 _p
  case "$_op" in
    -L) atlas_img_walk _p "$_root" "$3" nofollow || return 1 ;;
    -e | -f | -d) atlas_img_walk _p "$_root" "$3" follow || return 1 ;;
    *) atlas_fail usage "atlas_img_test: unknown test $_op" ;;
  esac
  test "$_op" "$_root$_p"
}

# atlas_img_mkdir ROOT PATH [MODE]: mkdir -p inside the image (new directories root-owned, MODE
# or 0755); each existing component is resolved as the image would, so a linked folder is
# followed inside the image.
atlas_img_mkdir() {
  local _root=$1 _path=$2 _mode=${3:-0755} _p
  atlas_img_path _p "$_root" "$_path"
  if [ ! -d "$_p" ]; then
    [ ! -e "$_p" ] || atlas_fail bad-input "in the image: $_path exists and is not a directory"
    # shellcheck disable=SC2174 # the parents are made as the image's own mkdir -p would (0755)
    mkdir -p -m "$_mode" -- "$_p" || atlas_fail io "could not create $_path in the image"
  fi
}

# Parent folder of an in-image path, created when missing: sets VAR to its host path.
_atlas_img_parent() {
  local __var=$1 __root=$2 __parent=${3%/*}
  atlas_img_mkdir "$__root" "${__parent:-/}"
  atlas_img_path "$__var" "$__root" "${__parent:-/}"
}

# atlas_img_install SRC ROOT PATH MODE: a root-owned copy of host file SRC at in-image PATH
# (an entry already there, a symlink included, is replaced, never written through).
atlas_img_install() {
  local _src=$1 _root=$2 _path=$3 _mode=$4 _dir
  _atlas_img_parent _dir "$_root" "$_path"
  install -m "$_mode" -o 0 -g 0 -T -- "$_src" "$_dir/${_path##*/}" || atlas_fail io "could not write $_path in the image"
}

# atlas_img_symlink TARGET ROOT PATH: the symlink PATH -> TARGET in the image (replacing a link).
atlas_img_symlink() {
  local _target=$1 _root=$2 _path=$3 _dir
  _atlas_img_parent _dir "$_root" "$_path"
  ln -sfnT -- "$_target" "$_dir/${_path##*/}" || atlas_fail io "could not create the link $_path in the image"
}

# atlas_img_touch ROOT PATH: an empty file at PATH, unless a file is already there.
atlas_img_touch() {
  local _root=$1 _path=$2 _dir _p
  _atlas_img_parent _dir "$_root" "$_path"
  atlas_img_path _p "$_root" "$_path"
  [ -f "$_p" ] && return 0
  [ ! -e "$_p" ] || atlas_fail bad-input "in the image: $_path exists and is not a file"
  : >"$_p" || atlas_fail io "could not create $_path in the image"
}

# atlas_img_rm ROOT PATH: removes the entry (file or link; a link's target is kept).
atlas_img_rm() {
  local _p
  atlas_img_walk _p "$1" "$2" nofollow || return 0
  if [ -d "$1$_p" ] && [ ! -L "$1$_p" ]; then atlas_fail bad-input "in the image: $2 is a directory"; fi
  rm -f -- "$1$_p"
}

# atlas_img_rewrite ROOT PATH NEWFILE: replaces the content of in-image file PATH with host file
# NEWFILE, writing into the same inode: owner, group, mode and attributes stay as they were.
atlas_img_rewrite() {
  local _root=$1 _path=$2 _new=$3 _p
  atlas_img_path _p "$_root" "$_path"
  [ -f "$_p" ] || atlas_fail bad-input "in the image: $_path is not a file"
  cat -- "$_new" >"$_p" || atlas_fail io "could not rewrite $_path in the image"
}

# atlas_img_readlink ROOT PATH: the target of the symlink PATH (not followed), on stdout.
atlas_img_readlink() {
  local _p
  atlas_img_walk _p "$1" "$2" nofollow || return 1
  [ -L "$1$_p" ] || return 1
  readlink -- "$1$_p"
}

# atlas_img_same ROOT PATH1 PATH2: true when both resolve (in the image) to the same existing file.
atlas_img_same() {
  local _a _b
  atlas_img_walk _a "$1" "$2" follow || return 1
  atlas_img_walk _b "$1" "$3" follow || return 1
  [ -e "$1$_a" ] && [ "$_a" = "$_b" ]
}
