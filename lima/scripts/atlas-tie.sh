#!/usr/bin/env bash
# Ties a command's life to its caller's, so nothing it starts outlives a caller killed with -9.
#
# The caller starts this in a process group of its own and hands it a lifeline on stdin: a pipe
# it holds open and never writes to. The kernel closes it when the caller dies, however it dies
# (PR_SET_PDEATHSIG would reach only the first child, and is lost across sudo and ssh; a bash
# script's children would carry on with parent 1). COMMAND runs in this group with stdin from
# /dev/null. When the lifeline ends, the whole group gets SIGTERM once (the builder scripts'
# traps then unmount and detach what they attached), and SIGKILL after GRACE seconds if anything
# is left. A caller that cancels signals the group itself: a SIGTERM, SIGINT or SIGHUP here only
# starts the same grace period. Exits with COMMAND's status.
#
# Through `limactl shell` the lifeline is ssh's stdin: it ends in the VM when the Mac's limactl
# (or the app) goes away, as no hang-up signal does without a terminal.
#
# usage: atlas-tie.sh GRACE_SECONDS COMMAND [ARGS...]   (bash 5.1 or later: wait -n -p)
set -u

if [ $# -lt 2 ] || ! [[ "$1" =~ ^[0-9]{1,4}$ ]]; then
  printf 'usage: atlas-tie.sh GRACE_SECONDS COMMAND [ARGS...]\n' >&2
  exit 2
fi
grace=$1
shift

stop=0
trap 'stop=1' TERM INT HUP
exec 3<&0
"$@" </dev/null 3<&- &
cmd=$!
cat <&3 >/dev/null 2>&1 3<&- &
watch=$!
exec 3<&-

timer=''
while :; do
  pids=("$cmd")
  [ -z "$watch" ] || pids+=("$watch")
  [ -z "$timer" ] || pids+=("$timer")
  done_pid=''
  wait -n -p done_pid "${pids[@]}"
  rc=$?
  case "$done_pid" in
    '') ;; # a signal: stop is set
    "$cmd") break ;;
    "$watch")
      watch=''
      if [ "$rc" -eq 0 ] && [ -z "$timer" ]; then
        # The lifeline ended: the caller is gone. Nobody else will stop the group.
        stop=1
        kill -s TERM 0 2>/dev/null
      else
        stop=1 # the watcher was signalled with the group: the caller is stopping it
      fi
      ;;
    "$timer") kill -s KILL 0 ;;
  esac
  if [ "$stop" = 1 ] && [ -z "$timer" ]; then
    sleep "$grace" >/dev/null 2>&1 &
    timer=$!
  fi
done
[ -z "$watch" ] || kill "$watch" 2>/dev/null
[ -z "$timer" ] || kill "$timer" 2>/dev/null
exit "$rc"
