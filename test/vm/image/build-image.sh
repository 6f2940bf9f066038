#!/usr/bin/env bash
# Builds the test builder VM's disk image: a small Debian 12 guest made with debootstrap from the
# Debian mirror apt uses on this machine, with a kernel and initramfs of its own, an ssh server,
# sudo, and guest-init.sh (the part of cloud-init that Lima's guests rely on: the default user, its
# key, the shared folders). The template's provision script installs the disk tools later, at the
# first start, as Lima does.
#
# usage: build-image.sh OUT_DIR [PACKAGE...]
#   writes OUT_DIR/{disk.qcow2,vmlinuz,initrd.img}; the PACKAGEs (the template's disk tools) are
#   installed too, so that the provision script finds them and only checks them, as on every boot
#   of a Lima VM after its first.
# Needs root, debootstrap, qemu-img, mkfs.ext4 (e2fsprogs) and the mirror.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build-image.sh OUT_DIR [PACKAGE...]}
shift
for p in "$@"; do [[ $p =~ ^[a-z0-9][a-z0-9.+-]*$ ]] || { echo "bad package name: $p" >&2; exit 1; }; done
suite=bookworm
disk_size=4G

# The mirror: the first deb822 URIs or one-line `deb` source naming the suite, as apt has it here.
mirror=${ATLAS_TESTVM_MIRROR:-}
if [ -z "$mirror" ]; then
  mirror=$({ cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null || true; } |
    awk -v s="$suite" '
      /^[[:space:]]*#/ { next }
      $1 == "deb" { u = ($2 ~ /^\[/) ? $3 : $2; st = ($2 ~ /^\[/) ? $4 : $3; if (st == s && u ~ /debian\/?$/) { print u; exit } }
      $1 == "URIs:" { uri = $2 }
      $1 == "Suites:" { for (i = 2; i <= NF; i++) if ($i == s && uri ~ /debian\/?$/) { print uri; exit } }
    ')
fi
[ -n "$mirror" ] || { echo "no Debian $suite mirror in /etc/apt/sources.list*" >&2; exit 1; }
echo "mirror: $mirror" >&2

# In memory when there is room (the root is ~1 GiB, the raw disk sparse): much faster than a disk.
tmpbase=/var/tmp
if [ "$(df -k --output=avail /dev/shm 2>/dev/null | tail -n1)" -gt $((6 * 1024 * 1024)) ] 2>/dev/null; then tmpbase=/dev/shm; fi
work=$(mktemp -d "$tmpbase/atlas-testvm-build.XXXXXX")
root=$work/root
cleanup() {
  for m in dev/pts dev proc sys; do mountpoint -q "$root/$m" 2>/dev/null && umount -l "$root/$m"; done
  rm -rf "$work"
}
trap cleanup EXIT

debootstrap --variant=minbase \
  --include=systemd-sysv,udev,kmod,iproute2,openssh-server,sudo,netbase,procps,less \
  "$suite" "$root" "$mirror" >&2

# No documentation, manual pages or translations in the guest.
mkdir -p "$root/etc/dpkg/dpkg.cfg.d"
printf '%s\n' 'path-exclude=/usr/share/doc/*' 'path-exclude=/usr/share/man/*' 'path-exclude=/usr/share/locale/*' \
  'path-exclude=/usr/share/info/*' >"$root/etc/dpkg/dpkg.cfg.d/01-atlas-testvm-nodoc"
rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/*

# Only the modules needed to reach the root file system go in the initramfs.
mkdir -p "$root/etc/initramfs-tools/conf.d"
echo 'MODULES=list' >"$root/etc/initramfs-tools/conf.d/atlas-testvm.conf"
printf '%s\n' virtio_pci virtio_blk ext4 >>"$root/etc/initramfs-tools/modules"
mount -t proc proc "$root/proc"
mount --bind /sys "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
cp /etc/resolv.conf "$root/etc/resolv.conf"
echo force-unsafe-io >"$root/etc/dpkg/dpkg.cfg.d/02-atlas-testvm-build"
DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -y -qq --no-install-recommends linux-image-amd64 "$@" >&2
chroot "$root" apt-get clean
rm -f "$root/etc/dpkg/dpkg.cfg.d/02-atlas-testvm-build"
for m in dev/pts dev proc sys; do umount -l "$root/$m"; done

# The system: the guest init before sshd (it also sets up QEMU's user network, whose addresses are
# fixed), and nothing else that takes long under emulation.
echo 'lima-atlas-build' >"$root/etc/hostname"
printf '127.0.0.1 localhost\n' >"$root/etc/hosts"
printf 'nameserver 10.0.2.3\n' >"$root/etc/resolv.conf"
printf '/dev/vda / ext4 rw,errors=remount-ro 0 1\n' >"$root/etc/fstab"
install -m 0755 "$here/guest-init.sh" "$root/usr/local/sbin/atlas-guest-init"
cat >"$root/etc/systemd/system/atlas-guest-init.service" <<'UNIT'
[Unit]
Description=Atlas test VM: default user, ssh key and shared folders from the host
DefaultDependencies=no
After=local-fs.target systemd-modules-load.service
Before=ssh.service systemd-user-sessions.service
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/atlas-guest-init
StandardOutput=journal+console
[Install]
WantedBy=multi-user.target
UNIT
cat >"$root/etc/ssh/sshd_config.d/atlas-testvm.conf" <<'SSHD'
HostKey /etc/ssh/ssh_host_ed25519_key
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
SSHD
chroot "$root" systemctl enable atlas-guest-init.service ssh.service >&2
chroot "$root" systemctl mask getty@tty1.service serial-getty@ttyS0.service getty-static.service \
  e2scrub_reap.service e2scrub_all.timer apt-daily.timer apt-daily-upgrade.timer fstrim.timer >&2
rm -f "$root"/etc/ssh/ssh_host_*   # each instance makes its own at first boot (guest-init.sh)

mkdir -p "$out"
cp "$root"/boot/vmlinuz-* "$out/vmlinuz"
cp "$root"/boot/initrd.img-* "$out/initrd.img"
mkfs.ext4 -q -F -L atlas-testvm -d "$root" "$work/disk.raw" "$disk_size"
qemu-img convert -f raw -O qcow2 "$work/disk.raw" "$out/disk.qcow2"
echo "built $out" >&2
