#!/bin/sh
# Ends what is left of one execution's script: TERM, a grace period, KILL.
# Usage: sh stop.sh <executionId> <grace seconds> [<process group>]
# What is left: the script's process group, and every process that still carries the execution's
# CRONIUM_EXECUTION_ID in its environment (read from /proc where there is one), so that children that made
# a session of their own (setsid, nohup'd double forks) are not missed. Run by the runner's watcher (cancel,
# timeout, lost connection) and by the app when a background job still holds the output of a script that
# has exited (sshd has closed the control channel by then).
case $1 in '' | *[!A-Za-z0-9-]*) exit 2 ;; esac
id=$1
grace=${2:-5}
pgid=$3
# The process group of a pid (field 5 of /proc/PID/stat, read after the command name's closing paren).
group_of() {
  s=$(cat /proc/"$1"/stat 2>/dev/null) || return 0
  s=${s##*) }
  set -- $s
  echo "$3"
}
# This script's own group (its watcher's): its subshells, grep and sleep inherit the execution's
# environment too, and counting them kept "what is left" from ever emptying — every stop waited out the
# whole grace period even when the script had ended at TERM.
own=$(group_of $$)
tree() {
  [ -n "$pgid" ] && kill -0 -"$pgid" 2>/dev/null && echo "-$pgid"
  for f in $(grep -l -F "CRONIUM_EXECUTION_ID=$id" /proc/[0-9]*/environ 2>/dev/null); do
    p=${f#/proc/}
    p=${p%/environ}
    [ "$p" != $$ ] && [ "$p" != "$PPID" ] && [ -z "$own" -o "$(group_of "$p")" != "$own" ] &&
      kill -0 "$p" 2>/dev/null && echo "$p"
  done
}
left=$(tree)
[ -n "$left" ] || exit 0
kill -TERM $left 2>/dev/null
n=0
while [ -n "$left" ] && [ "$n" -lt "$((grace * 10))" ]; do
  sleep 0.1 2>/dev/null || sleep 1
  n=$((n + 1))
  left=$(tree)
done
[ -n "$left" ] && kill -KILL $left $(tree) 2>/dev/null
exit 0
