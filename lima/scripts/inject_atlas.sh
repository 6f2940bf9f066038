#!/usr/bin/env bash
# Phase 0 Insert: injects the ODS Atlas first-boot payload into an Armbian image, in place.
# The caller works on a copy of the base image (the base is never touched).
#   /usr/local/bin/atlas_firstboot.sh               0755 root   first-boot provisioning
#   /etc/systemd/system/atlas-firstboot.service     0644 root   enabled in multi-user.target.wants
#   /usr/local/etc/atlas_secrets.conf               0600 root   credentials (+ /etc/ods/ symlink)
#   /var/lib/ods/atlas_firstboot_pending            gate file the service's condition checks
#   armbian-firstrun.service masked, /root/.not_logged_in_yet removed (Armbian first-login off)
#   root password preset from ROOT_PASSWORD in the secrets file, read as its `source` would
#   cmdline.txt line 1 (the rest kept) on the boot partition: consoleblank=0 splash quiet plymouth.ignore-serial-consoles
# usage: inject_atlas.sh IMAGE PAYLOAD_DIR SECRETS_FILE
# shellcheck disable=SC2154 # boot, root, mnt, …: assigned by name (atlas_attach, atlas_mount, atlas_img_path, read -r)
source "$(dirname "${BASH_SOURCE[0]}")/atlas-common.sh"

[ $# -eq 3 ] || atlas_fail usage "usage: inject_atlas.sh IMAGE PAYLOAD_DIR SECRETS_FILE"
img=$1 payload=$2 secrets=$3
atlas_check_path image "$img"
atlas_check_path payload "$payload"
atlas_check_path secrets "$secrets"
[ -f "$img" ] || atlas_fail not-found "no such image: $img"
[ -f "$payload/atlas_firstboot.sh" ] || atlas_fail not-found "the payload has no atlas_firstboot.sh: $payload"
[ -f "$payload/atlas-firstboot.service" ] || atlas_fail not-found "the payload has no atlas-firstboot.service: $payload"
[ -f "$secrets" ] || atlas_fail not-found "no secrets file: $secrets"
head -c 2 "$payload/atlas_firstboot.sh" | grep -q '^#!' || atlas_fail bad-input "atlas_firstboot.sh does not start with #! (not a script?)"
grep -q '^\[Service\]' "$payload/atlas-firstboot.service" || atlas_fail bad-input "atlas-firstboot.service has no [Service] section"
atlas_require_root
atlas_require_tools partx losetup blkid e2fsck mount install mtype mcopy setpriv timeout

atlas_part_geometry "$img" 1
p1_start=$PART_START
atlas_attach_root root "$img" "not an Armbian image"

atlas_step check 0 "Checking the root file system"
atlas_e2fsck "$root" "base image"

atlas_step inject 0 "Injecting the Atlas payload"
atlas_mount mnt "$root" rw
atlas_img_test -d "$mnt" /usr && atlas_img_test -d "$mnt" /etc || atlas_fail bad-input "partition 2 is not a Linux root file system (no /usr, /etc)"
if atlas_img_test -e "$mnt" /var/lib/ods/phase || atlas_img_test -d "$mnt" /home/signage/ODS; then
  atlas_fail wrong-phase "this image comes from a provisioned device (Phase 1): Insert needs a base Armbian image. Use clone/shrink for provisioned cards."
fi
if atlas_img_test -e "$mnt" /usr/local/bin/atlas_firstboot.sh || atlas_img_test -e "$mnt" /var/lib/ods/atlas_firstboot_pending; then
  atlas_fail wrong-phase "this image already carries the Atlas payload (a Phase 0 golden image): start from the base Armbian image"
fi

atlas_img_install "$payload/atlas_firstboot.sh" "$mnt" /usr/local/bin/atlas_firstboot.sh 0755
atlas_result injected "/usr/local/bin/atlas_firstboot.sh 0755"
atlas_img_install "$payload/atlas-firstboot.service" "$mnt" /etc/systemd/system/atlas-firstboot.service 0644
atlas_result injected "/etc/systemd/system/atlas-firstboot.service 0644"
atlas_img_symlink /etc/systemd/system/atlas-firstboot.service "$mnt" /etc/systemd/system/multi-user.target.wants/atlas-firstboot.service
atlas_result injected "/etc/systemd/system/multi-user.target.wants/atlas-firstboot.service symlink"
atlas_img_install "$secrets" "$mnt" /usr/local/etc/atlas_secrets.conf 0600
atlas_result injected "/usr/local/etc/atlas_secrets.conf 0600"
atlas_img_symlink /usr/local/etc/atlas_secrets.conf "$mnt" /etc/ods/atlas_secrets.conf
atlas_result injected "/etc/ods/atlas_secrets.conf symlink"
atlas_img_touch "$mnt" /var/lib/ods/atlas_firstboot_pending
atlas_result injected "/var/lib/ods/atlas_firstboot_pending gate"
atlas_img_symlink /dev/null "$mnt" /etc/systemd/system/armbian-firstrun.service
atlas_result injected "/etc/systemd/system/armbian-firstrun.service masked"
atlas_img_rm "$mnt" /root/.not_logged_in_yet

# Root password: ROOT_PASSWORD as atlas_firstboot.sh's `source` of the secrets file sets it
# (export, indented, quoted either way, trailing comments). bash reads the file as nobody with an
# empty environment and its output discarded; the value comes back on a pipe and is hashed through
# stdin, never on a command line. A file bash cannot parse, or one naming ROOT_PASSWORD without
# setting it, is refused.
# bash's own message may quote the bad line: only its number is shown.
if ! err=$(bash -n 2>&1 >/dev/null <"$secrets"); then
  line=$(printf '%s\n' "$err" | grep -o 'line [0-9]*' | head -n 1 || true)
  atlas_fail bad-input "the secrets file is not valid shell${line:+ ($line)}: atlas_firstboot.sh sources it, so fix it first"
fi
unset err
atlas_img_test -f "$mnt" /etc/shadow || atlas_fail bad-input "the image has no /etc/shadow: not an Armbian root file system"
pw=$(timeout 10 setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs \
  env -i PATH=/usr/bin:/bin bash --noprofile --norc -c \
  'cd / && exec 3>&1 >/dev/null 2>&1 && eval "$(cat)" </dev/null; printf "%s" "${ROOT_PASSWORD-}" >&3' <"$secrets") ||
  atlas_fail bad-input "the secrets file did not finish when read as atlas_firstboot.sh reads it (source)"
if [ -n "$pw" ]; then
  atlas_require_tools openssl
  hash=$(printf '%s' "$pw" | openssl passwd -6 -stdin)
  unset pw
  atlas_tmpfile new_shadow
  atlas_img_path shadow "$mnt" /etc/shadow
  awk -v h="$hash" 'BEGIN { FS = OFS = ":" } $1 == "root" { $2 = h } { print }' "$shadow" >"$new_shadow"
  atlas_img_rewrite "$mnt" /etc/shadow "$new_shadow"
  rm -f "$new_shadow"
  atlas_result injected "/etc/shadow root-password"
elif grep -q 'ROOT_PASSWORD' "$secrets"; then
  atlas_fail bad-input "the secrets file names ROOT_PASSWORD but sourcing it sets no value: write it as ROOT_PASSWORD=\"...\""
else
  atlas_log "warning: no ROOT_PASSWORD in the secrets file: the root password stays as in the base image"
fi
sync -f "$mnt"
atlas_umount "$mnt"
atlas_e2fsck "$root" "after injecting"

atlas_step cmdline 0 "Patching cmdline.txt on the boot partition"
fat="$img@@$((p1_start * 512))"
atlas_tmpfile cmdfile
if mtype -i "$fat" ::cmdline.txt >"$cmdfile" 2>/dev/null; then
  # The firmware reads line 1 only: that line is edited, every other byte is kept as it was
  # (a comment on line 2 must not become kernel arguments, nor hide words from line 1).
  line1='' ending=''
  IFS= read -r line1 <"$cmdfile" && ending=$'\n'
  case "$line1" in *$'\r') line1=${line1%$'\r'} ending=$'\r\n' ;; esac
  read -r -a words <<<"${line1//$'\t'/ }"
  for i in "${!words[@]}"; do
    case "${words[$i]}" in loglevel=*) words[i]=loglevel=3 ;; esac
  done
  for word in consoleblank=0 splash quiet plymouth.ignore-serial-consoles vt.global_cursor_default=0; do
    case " ${words[*]} " in *" $word "*) ;; *) words+=("$word") ;; esac
  done
  atlas_tmpfile tmp
  { printf '%s%s' "${words[*]}" "$ending" && tail -n +2 -- "$cmdfile"; } >"$tmp"
  mcopy -o -i "$fat" "$tmp" ::cmdline.txt
  atlas_result injected "boot:/cmdline.txt patched"
else
  atlas_log "no cmdline.txt on the boot partition: left as it is"
fi
atlas_log "payload injected into $img"
