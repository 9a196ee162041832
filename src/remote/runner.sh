#!/bin/sh
# Cronium remote runner (POSIX sh). Started as: sh runner.sh <executionId> <nonce>
# Stdin carries the setup (a shell fragment ending with a marker line), then stays open as the control
# channel: a "cancel" line, or end of input when the app goes away, ends the script's whole process group.
umask 077
id=$1
nonce=$2
case $id in '' | *[!A-Za-z0-9-]*) echo "cronium-runner: bad execution id" >&2; exit 254 ;; esac

ctl() { printf '\036cronium:%s:%s\n' "$nonce" "$*" >&2; }

base="$HOME/.cronium"
W="$base/runs/$id"
mkdir -p "$base/runs" && chmod 700 "$base" "$base/runs" || exit 254
mkdir -m 700 "$W" || { echo "cronium-runner: cannot create $W" >&2; exit 254; }
cleanup() { [ "${CRONIUM_KEEP_WORKDIR:-0}" = 1 ] || rm -rf "$W"; }

# The setup holds secrets: it lives only in the 0700 work directory, and only until it is sourced.
end="__CRONIUM_SETUP_END__$nonce"
line=
while IFS= read -r line; do
  [ "$line" = "$end" ] && break
  printf '%s\n' "$line"
done > "$W/setup.sh"
if [ "$line" != "$end" ]; then
  echo "cronium-runner: the setup was cut short" >&2
  cleanup
  exit 254
fi
. "$W/setup.sh"
rm -f "$W/setup.sh"

if ! command -v "$CRONIUM_INTERPRETER" >/dev/null 2>&1; then
  ctl "interpreter_missing $CRONIUM_INTERPRETER"
  cleanup
  exit 127
fi

cd "$W" || exit 254
exec 3<&0
# Its own session (or at least process group), so that cancel and timeout reach every process it starts.
if command -v setsid >/dev/null 2>&1; then
  setsid "$CRONIUM_INTERPRETER" "$W/$CRONIUM_SCRIPT" </dev/null 3<&- &
elif command -v perl >/dev/null 2>&1; then
  perl -e 'setpgrp(0, 0); exec { $ARGV[0] } @ARGV or die "exec: $!\n"' "$CRONIUM_INTERPRETER" "$W/$CRONIUM_SCRIPT" </dev/null 3<&- &
else
  "$CRONIUM_INTERPRETER" "$W/$CRONIUM_SCRIPT" </dev/null 3<&- &
fi
pid=$!

(
  while IFS= read -r cmd; do [ "$cmd" = cancel ] && break; done
  kill -TERM -"$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
  sleep "${CRONIUM_KILL_GRACE:-5}"
  kill -KILL -"$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
) <&3 >/dev/null 2>&1 &
watcher=$!
exec 3<&-

wait "$pid"
code=$?
kill "$watcher" 2>/dev/null
# Whatever the script left running in its group would hold the output open and outlive it: end it too,
# with the same TERM, grace period, KILL.
if kill -0 -"$pid" 2>/dev/null; then
  kill -TERM -"$pid" 2>/dev/null
  n=0
  while kill -0 -"$pid" 2>/dev/null && [ "$n" -lt "$((${CRONIUM_KILL_GRACE:-5} * 10))" ]; do
    sleep 0.1 2>/dev/null || sleep 1
    n=$((n + 1))
  done
  kill -KILL -"$pid" 2>/dev/null
fi
cleanup
exit "$code"
