#!/usr/bin/env bash
# Runs one builder script inside the atlas-build VM in a way the app can cancel.
#
# Killing `limactl shell` on the Mac does not stop a command in the VM (ssh without a terminal
# passes no hang-up on). So this wrapper gives the script a process group of its own, writes the
# group id to PIDFILE (a file in the shared work dir, read by the app on the Mac), and the app
# cancels with `limactl shell atlas-build -- sudo kill -TERM -- -PGID`: the script and its whole
# pipeline (partclone | pigz) get SIGTERM and the script's cleanup trap detaches its loop devices.
# If the app already gave up (PIDFILE.cancel exists), the script is not started at all.
# SIGPIPE is ignored, so a script whose reader went away fails on its next write and still runs
# its cleanup, instead of dying silently with loop devices attached.
#
# usage: sudo bash atlas-run.sh PIDFILE SCRIPT [ARGS...]   (SCRIPT: a script in this folder)
set -euo pipefail

fail() { # fail CODE MESSAGE: the builder protocol's failure line, then exit 2
  printf '@@ATLAS fail %s %s\n' "$1" "$2"
  printf 'error: %s\n' "$2" >&2
  exit 2
}

[ $# -ge 2 ] || fail usage "usage: atlas-run.sh PIDFILE SCRIPT [ARGS...]"
pidfile=$1
script=$2
case "$pidfile" in
  /*.pid) ;;
  *) fail bad-input "PIDFILE must be an absolute path ending in .pid: $pidfile" ;;
esac
case "$pidfile" in *$'\n'* | *$'\r'*) fail bad-input "PIDFILE contains a line break" ;; esac
[ -d "$(dirname -- "$pidfile")" ] || fail not-found "no folder for the PIDFILE: $pidfile"
[[ "$script" =~ ^[a-z][a-z0-9_]*\.sh$ ]] || fail bad-input "not a builder script name: $script"
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
[ -f "$here/$script" ] || fail not-found "no builder script $script in $here"

# Become the leader of a new session, and so of a new process group whose id is our PID. setsid
# does not fork when the caller is not a group leader, so the PID stays the same across exec.
stat=$(</proc/$$/stat)
read -r -a fields <<<"${stat##*) }" # state ppid pgrp ...
if [ "${fields[2]}" != "$$" ]; then
  exec setsid -- bash "${BASH_SOURCE[0]}" "$@"
fi

printf '%s\n' "$$" >"$pidfile.tmp"
mv -f -- "$pidfile.tmp" "$pidfile"
if [ -e "$pidfile.cancel" ]; then
  printf 'cancelled before %s started\n' "$script" >&2
  exit 130
fi
trap '' PIPE
shift 2
exec bash "$here/$script" "$@"
