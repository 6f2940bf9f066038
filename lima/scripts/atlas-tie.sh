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
# usage: atlas-tie.sh GRACE_SECONDS COMMAND [ARGS...]   (bash 5.1 or later: wait -n -p)
set -u

if [ $# -lt 2 ] || ! [[ "$1" =~ ^[0-9]{1,4}$ ]]; then
  printf 'usage: atlas-tie.sh GRACE_SECONDS COMMAND [ARGS...]\n' >&2
  exit 2
fi
grace=$1
shift

# Caught, not ignored (an ignored signal would stay ignored in COMMAND): it ends the wait below.
trap ':' TERM INT HUP
exec 3<&0
"$@" </dev/null 3<&- &
cmd=$!
cat <&3 >/dev/null 2>&1 3<&- &
watch=$!
exec 3<&-

done_pid=''
wait -n -p done_pid "$cmd" "$watch"
rc=$?
if [ "$done_pid" != "$cmd" ]; then
  # The lifeline ended (the watcher exited 0: the caller is gone, nobody else will stop the
  # group), or the caller is stopping the group (a signal here, or the watcher killed with it).
  if [ "$done_pid" = "$watch" ] && [ "$rc" -eq 0 ]; then
    kill -s TERM 0 2>/dev/null
  fi
  # Polled (a `wait -n` misses a child that ended while this shell handled a signal).
  deadline=$((SECONDS + grace))
  while kill -0 "$cmd" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
  kill -0 "$cmd" 2>/dev/null && kill -s KILL 0
  wait "$cmd"
  rc=$?
fi
kill "$watch" 2>/dev/null
exit "$rc"
