#!/bin/bash
# Runs in the test VM at every boot, before sshd: what cloud-init does for a Lima guest. Reads the
# host's instance data from the read-only 9p share "cidata" and sets up
#   - the host keys of sshd (once per instance disk),
#   - the default user (name, uid; home /home/NAME.linux as Lima's; passwordless sudo), its key,
#   - the shared folders: one 9p share per line of cidata/mounts (TAG<TAB>MOUNTPOINT<TAB>rw|ro).
set -eu -o pipefail
cidata=/run/atlas-cidata
mkdir -p "$cidata"
modprobe 9pnet_virtio
mountpoint -q "$cidata" || mount -t 9p -o trans=virtio,version=9p2000.L,ro cidata "$cidata"

get() { sed -n "s/^$1=//p" "$cidata/user" | head -n1; }
name=$(get name)
uid=$(get uid)
host=$(get hostname)
[[ $name =~ ^[a-z_][a-z0-9_-]*$ ]] || { echo "bad user name" >&2; exit 1; }
[[ $uid =~ ^[0-9]+$ ]] || { echo "bad uid" >&2; exit 1; }
if [[ $host =~ ^[A-Za-z0-9-]+$ ]]; then
  echo "$host" >/etc/hostname
  hostname "$host"
  grep -q " $host\$" /etc/hosts || echo "127.0.1.1 $host" >>/etc/hosts
fi

# QEMU's user network: the guest is 10.0.2.15, the gateway 10.0.2.2, the DNS relay 10.0.2.3.
modprobe virtio_net
ip link set lo up
ip link set eth0 up
ip addr replace 10.0.2.15/24 dev eth0
ip route replace default via 10.0.2.2

# One host key, ed25519: RSA key generation takes a minute under emulation.
[ -e /etc/ssh/ssh_host_ed25519_key ] || ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key

if ! id "$name" >/dev/null 2>&1; then
  useradd --uid "$uid" --user-group --create-home --home-dir "/home/$name.linux" --shell /bin/bash "$name"
fi
home=$(getent passwd "$name" | cut -d: -f6)
install -d -o "$name" -g "$name" -m 0700 "$home/.ssh"
install -o "$name" -g "$name" -m 0600 "$cidata/authorized_keys" "$home/.ssh/authorized_keys"
echo "$name ALL=(ALL) NOPASSWD:ALL" >/etc/sudoers.d/90-lima-users
chmod 0440 /etc/sudoers.d/90-lima-users

# Lima's 9p mount options (pkg/limayaml defaults: version 9p2000.L, msize 128 KiB, cache mmap for
# writable folders, fscache for read-only ones).
while IFS=$'\t' read -r tag mp mode; do
  [ -n "$tag" ] || continue
  mkdir -p "$mp"
  if [ "$mode" = rw ]; then opts=trans=virtio,version=9p2000.L,msize=131072,cache=mmap,rw
  else opts=trans=virtio,version=9p2000.L,msize=131072,cache=fscache,ro; fi
  mountpoint -q "$mp" || mount -t 9p -o "$opts" "$tag" "$mp"
done <"$cidata/mounts"
echo "atlas-guest-init: user $name ($uid), $(grep -c . "$cidata/mounts" || true) shared folder(s)"
