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

atlas_event() { printf '@@ATLAS %s\n' "$*"; }
atlas_step() { atlas_event step "$1" "$2" "${*:3}"; }
atlas_result() { atlas_event result "$1" "$2"; }
atlas_log() { printf '%s\n' "$*"; }

# atlas_fail CODE MESSAGE: exit 2 for bad input, 1 otherwise.
atlas_fail() {
  local code=$1
  shift
  atlas_event fail "$code" "$*"
  printf 'error: %s\n' "$*" >&2
  case "$code" in
    usage | bad-input | not-found | too-small | unsupported | exists) exit 2 ;;
    *) exit 1 ;;
  esac
}

atlas_cleanup() {
  local rc=$?
  local i
  for ((i = ${#ATLAS_MOUNTS[@]} - 1; i >= 0; i--)); do
    umount "${ATLAS_MOUNTS[$i]}" 2>/dev/null || umount -l "${ATLAS_MOUNTS[$i]}" 2>/dev/null || true
  done
  for ((i = ${#ATLAS_LOOPS[@]} - 1; i >= 0; i--)); do
    losetup -d "${ATLAS_LOOPS[$i]}" 2>/dev/null || true
  done
  for i in "${ATLAS_TMPDIRS[@]}"; do rmdir "$i" 2>/dev/null || true; done
  return "$rc"
}
trap atlas_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

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

atlas_card_bytes() {
  if [ -b "$1" ]; then blockdev --getsize64 "$1"; else stat -c %s "$1"; fi
}

# atlas_part_geometry CARD N: sets PART_START and PART_SECTORS (512-byte sectors) of partition N.
atlas_part_geometry() {
  local line
  line=$(partx -g -r -o NR,START,SECTORS "$1" 2>/dev/null | awk -v n="$2" '$1 == n { print $2, $3 }') || true
  [ -n "$line" ] || atlas_fail bad-input "$1 has no partition $2 (is it an SD-card image?)"
  read -r PART_START PART_SECTORS <<<"$line"
}

atlas_table_label() { # dos | gpt
  { sfdisk --dump "$1" 2>/dev/null || true; } | awk '/^label:/ { print $2; exit }'
}

# atlas_attach VAR CARD START SECTORS [ro|rw]: sets VAR to a loop device over that range.
# (Not a command substitution: the loop must be recorded in this shell so cleanup detaches it.)
atlas_attach() {
  local _var=$1 _card=$2 _start=$3 _sectors=$4 _mode=${5:-ro} _opts=() _dev
  [ "$_mode" = ro ] && _opts+=(--read-only)
  _dev=$(losetup --find --show "${_opts[@]}" --offset $((_start * 512)) --sizelimit $((_sectors * 512)) -- "$_card") ||
    atlas_fail loop "could not attach a loop device to $_card (are loop devices available?)"
  ATLAS_LOOPS+=("$_dev")
  printf -v "$_var" '%s' "$_dev"
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
  if [ "$_mode" = ro ]; then
    mount -t ext4 -o ro,noload,nodev,nosuid,noexec "$_dev" "$_dir" || atlas_fail mount "could not mount the root file system read-only"
  else
    mount -t ext4 -o nodev,nosuid,noexec "$_dev" "$_dir" || atlas_fail mount "could not mount the root file system"
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

# Refuses a block device that holds a mounted system file system; unmounts the others.
atlas_release_device() {
  local card=$1 src target
  [ -b "$card" ] || return 0
  local real
  real=$(readlink -f "$card")
  while read -r src target _; do
    case "$src" in
      "$real" | "$real"[0-9]* | "$real"p[0-9]*)
        case "$target" in
          / | /boot | /boot/* | /usr | /var | /home) atlas_fail system-disk "$card holds the mounted system file system $target: refusing" ;;
        esac
        umount "$target" || atlas_fail busy "could not unmount $target on $card (close whatever uses it)"
        ;;
    esac
  done </proc/mounts
}

# e2fsck exit codes: 0 clean, 1 errors fixed, 2 fixed + reboot; anything else is a failure.
atlas_e2fsck() {
  local rc=0
  e2fsck -f -y "$1" >&2 || rc=$?
  [ "$rc" -le 2 ] || atlas_fail fsck "e2fsck found errors it could not fix on the root file system (exit $rc)"
}
