#!/bin/sh
# Cronium remote runner (POSIX sh). Started as: sh runner.sh <executionId> <nonce>
#
# Stdin carries the setup: files, each introduced by a "__CRONIUM_FILE_<nonce> <name>" line and ended by
# "__CRONIUM_SETUP_END__<nonce>". Stdin then stays open as the control channel: a "cancel" line, or the end
# of input (the app closed its side after the script ended, or went away), makes the watcher end whatever
# is left of the script's process group (TERM, a grace period, KILL) and remove the work directory.
#
# Every process started here costs about a millisecond per execution: builtins wherever they do, and this
# shell finally becomes the script's interpreter (exec), so the script is the session's own process.
umask 077
id=$1
nonce=$2
case $id in '' | *[!A-Za-z0-9-]*) echo "cronium-runner: bad execution id" >&2; exit 254 ;; esac
ctl() { printf '\036cronium:%s:%s\n' "$nonce" "$*" >&2; }
ctl ready

# sshd makes each session's process a session (and process group) leader: the script's group is ours.
if ! kill -0 -$$ 2>/dev/null && command -v setsid >/dev/null 2>&1; then
  exec setsid sh "$0" "$@"
fi
pgid=$$


base="$HOME/.cronium"
W="$base/runs/$id"
[ -d "$base/runs" ] || { mkdir -p "$base/runs" && chmod 700 "$base" "$base/runs"; } || exit 254
mkdir "$W" || { echo "cronium-runner: cannot create $W" >&2; exit 254; }

# The setup holds secrets: it lives only in the 0700 work directory, and is emptied once sourced.
end="__CRONIUM_SETUP_END__$nonce"
mark="__CRONIUM_FILE_$nonce "
exec 5>"$W/setup.sh"
line=
while IFS= read -r line; do
  case $line in
    "$end") break ;;
    "$mark"*) exec 5>"$W/${line#"$mark"}"; continue ;;
  esac
  printf '%s\n' "$line" >&5
done
exec 5>&-
if [ "$line" != "$end" ]; then
  echo "cronium-runner: the setup was cut short" >&2
  rm -rf "$W"
  exit 254
fi
. "$W/setup.sh"
: > "$W/setup.sh"

if ! command -v "$CRONIUM_INTERPRETER" >/dev/null 2>&1; then
  ctl "interpreter_missing $CRONIUM_INTERPRETER"
  rm -rf "$W"
  exit 127
fi
cd "$W" || exit 254

grace=${CRONIUM_KILL_GRACE:-5}
watch='
  while IFS= read -r cmd; do [ "$cmd" = cancel ] && break; done
  if kill -0 -"$1" 2>/dev/null; then
    kill -TERM -"$1" 2>/dev/null
    n=0
    while kill -0 -"$1" 2>/dev/null && [ "$n" -lt "$(($2 * 10))" ]; do sleep 0.1 2>/dev/null || sleep 1; n=$((n + 1)); done
    kill -KILL -"$1" 2>/dev/null
  fi
  [ "${CRONIUM_KEEP_WORKDIR:-0}" = 1 ] || rm -rf "$3"
'
# The watcher runs in a session of its own, so that it can tell whether anything of the script is left.
# It reads the control channel through fd 3: a background job's own stdin is /dev/null.
exec 3<&0
if command -v setsid >/dev/null 2>&1; then
  setsid sh -c "$watch" watcher "$pgid" "$grace" "$W" <&3 >/dev/null 2>&1 3<&- &
elif command -v perl >/dev/null 2>&1; then
  perl -e 'setpgrp(0, 0); exec @ARGV' sh -c "$watch" watcher "$pgid" "$grace" "$W" <&3 >/dev/null 2>&1 3<&- &
else
  # Last resort: the watcher shares the group, ignores TERM, and KILL (after the grace period) ends it too.
  (trap '' TERM; sh -c "$watch" watcher "$pgid" "$grace" "$W") <&3 >/dev/null 2>&1 3<&- &
fi
# The helpers (cronium.input() and friends) come with the runner: Bash loads them through BASH_ENV,
# Python through a small bootstrap that makes `cronium` a builtin, Node through --require (and NODE_PATH,
# so that require("cronium") finds them).
H="${0%/*}/helpers"
case $CRONIUM_SCRIPT in
  *.sh) BASH_ENV="$H/cronium-stubs.sh"; export BASH_ENV; exec "$CRONIUM_INTERPRETER" "$W/$CRONIUM_SCRIPT" </dev/null 3<&- ;;
  *.py) PYTHONPATH="$H/python${PYTHONPATH:+:$PYTHONPATH}"; export PYTHONPATH
    exec "$CRONIUM_INTERPRETER" "$H/python/cronium_boot.py" "$W/$CRONIUM_SCRIPT" </dev/null 3<&- ;;
  *.js) NODE_PATH="$H/node/modules${NODE_PATH:+:$NODE_PATH}"; export NODE_PATH
    exec "$CRONIUM_INTERPRETER" --require "$H/node/cronium.cjs" "$W/$CRONIUM_SCRIPT" </dev/null 3<&- ;;
esac
exec "$CRONIUM_INTERPRETER" "$W/$CRONIUM_SCRIPT" </dev/null 3<&-
