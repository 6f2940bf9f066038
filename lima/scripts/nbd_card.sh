#!/usr/bin/env bash
# The host's card as a block device in the builder VM (Lima cannot pass a card reader through).
#
#   nbd_card.sh probe
#     Whether this VM can attach one: the nbd kernel module loads and nbd-client and socat are
#     installed. Answers "@@ATLAS result nbd available" or "@@ATLAS result nbd unavailable REASON"
#     (exit 0 either way), plus "@@ATLAS result boot-id ID". Checked once per boot (the answer is
#     kept with the boot id in /var/lib/atlas-build).
#
#   nbd_card.sh attach BYTES ro|rw
#     stdin/stdout carry the NBD stream of the card, served by the host (the raw-disk helper behind
#     `limactl shell`: ssh, never a network port). A UNIX socket (root only) is bridged to them with
#     socat, a free /dev/nbdN is connected to it with nbd-client (read-only unless rw), its size
#     checked against BYTES, and "@@ATLAS device /dev/nbdN" reported. Then it waits: the builder
#     scripts run on /dev/nbdN meanwhile. Events and logs go to stderr (stdout is the stream).
#     On SIGTERM (the app ends the session or cancels through atlas-run.sh) or when the stream
#     ends, the device is flushed and disconnected (nbd-client -d, which sends NBD_CMD_DISC).
source "$(dirname "${BASH_SOURCE[0]}")/atlas-common.sh"

probe() {
  local cache=/var/lib/atlas-build/nbd.probe boot reason=""
  boot=$(cat /proc/sys/kernel/random/boot_id)
  atlas_result boot-id "$boot"
  if [ -f "$cache" ] && [ "$(head -n 1 "$cache")" = "$boot" ]; then
    atlas_result nbd "$(sed -n 2p "$cache")"
    return 0
  fi
  local t missing=()
  for t in modprobe nbd-client socat; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
  if [ ${#missing[@]} -gt 0 ]; then
    reason="not installed in the VM: ${missing[*]}"
  elif ! err=$(modprobe nbd nbds_max=16 max_part=0 2>&1); then
    reason="the nbd kernel module does not load (${err%%$'\n'*})"
  elif [ ! -e /sys/block/nbd0 ]; then
    reason="the nbd module has no devices"
  fi
  local answer="available"
  [ -z "$reason" ] || answer="unavailable $reason"
  { printf '%s\n%s\n' "$boot" "$answer" >"$cache.tmp" && mv -f "$cache.tmp" "$cache"; } 2>/dev/null || true
  atlas_result nbd "$answer"
}

[ $# -ge 1 ] || atlas_fail usage "usage: nbd_card.sh probe | nbd_card.sh attach BYTES ro|rw"
atlas_require_root
if [ "$1" = probe ]; then
  [ $# -eq 1 ] || atlas_fail usage "usage: nbd_card.sh probe"
  probe
  exit 0
fi
[ "$1" = attach ] && [ $# -eq 3 ] || atlas_fail usage "usage: nbd_card.sh attach BYTES ro|rw"
bytes=$2
mode=$3
[[ $bytes =~ ^[1-9][0-9]{0,15}$ ]] || atlas_fail bad-input "BYTES must be a positive number: $bytes"
[ $((bytes % 512)) -eq 0 ] || atlas_fail bad-input "BYTES must be whole 512-byte sectors: $bytes"
case "$mode" in ro | rw) ;; *) atlas_fail bad-input "mode must be ro or rw: $mode" ;; esac

# fd 3/4: the NBD stream; everything this script prints goes to stderr from here on.
exec 3<&0 4>&1 1>&2 </dev/null
atlas_require_tools modprobe nbd-client socat blockdev flock setsid
modprobe nbd nbds_max=16 max_part=0 || atlas_fail missing-tool "the nbd kernel module does not load in the VM"

dev=""
sock_dir=""
socat_pid=""
connected=0

nbd_cleanup() {
  local rc=$? i
  if [ "$connected" = 1 ]; then
    # Whatever the kernel still holds for the card goes to it before the device goes away.
    [ "$mode" = rw ] && { blockdev --flushbufs "$dev" 2>/dev/null || true; }
    nbd-client -d "$dev" >/dev/null 2>&1 || true
    connected=0
  fi
  if [ -n "$socat_pid" ]; then
    # The host ends the stream once the disconnect reached it; socat then ends by itself.
    for ((i = 0; i < 50; i++)); do kill -0 "$socat_pid" 2>/dev/null || break; sleep 0.2; done
    kill "$socat_pid" 2>/dev/null || true
  fi
  [ -z "$sock_dir" ] || rm -rf -- "$sock_dir"
  return "$rc"
}
trap nbd_cleanup EXIT

# One attach at a time picks a device: a free one has no client (no pid) and no size.
exec 9>/run/atlas-build-nbd.lock
flock 9
for n in $(seq 0 15); do
  [ -e "/sys/block/nbd$n" ] || continue
  [ ! -e "/sys/block/nbd$n/pid" ] && [ "$(cat "/sys/block/nbd$n/size")" = 0 ] || continue
  dev=/dev/nbd$n
  break
done
[ -n "$dev" ] || atlas_fail busy "every /dev/nbdN in the VM is in use"

sock_dir=$(mktemp -d /run/atlas-nbd.XXXXXX)
sock=$sock_dir/card.sock
# In a session of its own: the group's SIGTERM must not cut the stream before the disconnect.
setsid socat -b 1048576 "UNIX-LISTEN:$sock,umask=077" STDIO <&3 >&4 &
socat_pid=$!
exec 3<&- 4>&-
for ((i = 0; i < 100; i++)); do [ -S "$sock" ] && break; sleep 0.1; done
[ -S "$sock" ] || atlas_fail tool-failed "socat did not open the card's socket in the VM"

args=(-unix "$sock" "$dev" -N card -b 512)
[ "$mode" = ro ] && args+=(-readonly)
nbd-client "${args[@]}" || atlas_fail tool-failed "nbd-client could not attach the card in the VM"
connected=1
flock -u 9
got=$(blockdev --getsize64 "$dev")
[ "$got" = "$bytes" ] || atlas_fail tool-failed "$dev has $(atlas_size "$got") ($got bytes), the card $(atlas_size "$bytes") ($bytes bytes)"
atlas_event device "$dev"
wait "$socat_pid" || true
socat_pid=""
