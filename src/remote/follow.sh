#!/bin/sh
# Follows a keep-running execution's spool (see runner.sh): writes what the script wrote to $W/stdout and
# $W/stderr, from the start, to this session's stdout and stderr as it grows, byte for byte, and exits
# with the script's exit status once $W/exit holds it (255 when the script's wrapper is gone without one:
# the host rebooted, or it was killed). A "cancel" line on stdin ends the script's tree (stop.sh); the end
# of stdin (the connection went away, the app closed) ends this follower and leaves the script running.
# Usage: sh follow.sh <executionId> <nonce|-> <grace seconds>
# With a nonce, "ready" control lines come first on both streams (what a login shell printed before them
# is not the script's), and a work directory that is not there is told by a "gone" control line (exit 3).
case $1 in '' | *[!A-Za-z0-9-]*) exit 2 ;; esac
id=$1
nonce=$2
grace=${3:-5}
case $grace in '' | *[!0-9]*) grace=5 ;; esac
W="$HOME/.cronium/runs/$id"
d=${0%/*}
if [ "$nonce" != - ]; then
  case $nonce in *[!a-f0-9]*) exit 2 ;; esac
  printf '\036cronium:%s:ready\n' "$nonce"
  printf '\036cronium:%s:ready\n' "$nonce" >&2
  if [ ! -f "$W/stdout" ]; then
    printf '\036cronium:%s:gone\n' "$nonce" >&2
    exit 3
  fi
fi
# The end of input (the app closing, the connection gone) ends this follower: no one reads it any more.
f=$$
exec 3<&0
( while IFS= read -r cmd; do
    [ "$cmd" = cancel ] && sh "$d/stop.sh" "$id" "$grace" "$(cat "$W/pid" 2>/dev/null)"
  done
  kill -TERM "$f" 2>/dev/null ) <&3 >/dev/null 2>&1 3<&- &
exec 3<&-

o=0
e=0
size() { s=$( { wc -c < "$1"; } 2>/dev/null) || s=0; s=${s##* }; s=${s:-0}; }
pump() {
  size "$W/stdout"
  if [ "$s" -gt "$o" ]; then tail -c +"$((o + 1))" "$W/stdout" | head -c "$((s - o))"; o=$s; fi
  size "$W/stderr"
  if [ "$s" -gt "$e" ]; then tail -c +"$((e + 1))" "$W/stderr" | head -c "$((s - e))" >&2; e=$s; fi
}
while :; do
  if [ -f "$W/exit" ]; then
    pump
    IFS= read -r c < "$W/exit"
    exit "${c:-255}"
  fi
  pump
  w=$(cat "$W/wrapper" 2>/dev/null)
  if [ -n "$w" ] && ! kill -0 "$w" 2>/dev/null && [ ! -f "$W/exit" ]; then
    pump
    exit 255
  fi
  sleep 0.2 2>/dev/null || sleep 1
done
