#!/bin/sh
# Cronium remote runner (POSIX sh). Started as: sh runner.sh <executionId> <nonce>
#
# Stdin carries the setup: files, each introduced by a "__CRONIUM_FILE_<nonce> <name>" line and ended by
# "__CRONIUM_SETUP_END__<nonce>". Stdin then stays open as the control channel, read by a watcher. A
# "cancel" line (cancel, timeout), or the end of input while the script still runs or once the connection
# is gone, makes it end the script's whole tree with stop.sh (TERM, a grace period, KILL). After a normal
# end (sshd closes the channel's input when the script exits) what the script deliberately left running
# (nohup, setsid, disown, `&` with its output redirected) keeps running, as it would through `ssh host`.
# Either way the watcher then removes the work directory.
#
# Every process started here costs about a millisecond per execution: builtins wherever they do, and this
# shell finally becomes the script's interpreter (exec), so the script is the session's own process.
umask 077
id=$1
nonce=$2
case $id in '' | *[!A-Za-z0-9-]*) echo "cronium-runner: bad execution id" >&2; exit 254 ;; esac
ctl() { printf '\036cronium:%s:%s\n' "$nonce" "$*" >&2; }

# sshd makes each session's process a session (and process group) leader: the script's group is ours.
# (Not so behind a ForceCommand wrapper that does not exec the command: then we make a session of our own.)
if ! kill -0 -$$ 2>/dev/null && command -v setsid >/dev/null 2>&1; then
  exec setsid sh "$0" "$@"
fi
pgid=$$
# "ready" on both streams: whatever came before it on either one is the login shell's, not the script's.
printf '\036cronium:%s:ready\n' "$nonce"
ctl ready

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

# Starts the script: this shell becomes its interpreter (exec). The helpers (cronium.input() and friends)
# come with the runner: Bash loads them through BASH_ENV, Python through a small bootstrap that makes
# `cronium` a builtin, Node through --require (and NODE_PATH, so that require("cronium") finds them).
# $1, when given, is a command to start it through (setsid: a session of its own).
launch() {
  H="${0%/*}/helpers"
  # Whatever the script's language, a program it starts in another one finds the helpers too: a Bash
  # script through BASH_ENV, `import cronium` through PYTHONPATH, require("cronium") through NODE_PATH.
  BASH_ENV="$H/cronium-stubs.sh"
  PYTHONPATH="$H/python${PYTHONPATH:+:$PYTHONPATH}"
  NODE_PATH="$H/node/modules${NODE_PATH:+:$NODE_PATH}"
  export BASH_ENV PYTHONPATH NODE_PATH
  case $CRONIUM_SCRIPT in
    *.sh) exec $1 "$CRONIUM_INTERPRETER" "$W/$CRONIUM_SCRIPT" </dev/null 3<&- ;;
    *.py) exec $1 "$CRONIUM_INTERPRETER" "$H/python/cronium_boot.py" "$W/$CRONIUM_SCRIPT" </dev/null 3<&- ;;
    *.js) exec $1 "$CRONIUM_INTERPRETER" --require "$H/node/cronium.cjs" "$W/$CRONIUM_SCRIPT" </dev/null 3<&- ;;
  esac
  exec $1 "$CRONIUM_INTERPRETER" "$W/$CRONIUM_SCRIPT" </dev/null 3<&-
}

# Keep-running jobs: the script runs detached from this session, so that it outlives the connection and
# the app. A wrapper (a fork of this shell: its environment lacks CRONIUM_EXECUTION_ID, so stop.sh leaves
# it alone) starts the script in a session of its own (its group is what stop.sh ends), with stdout and
# stderr spooled to files in the work directory, and writes the script's exit status to $W/exit when it
# ends. This session then follows the spool (follow.sh), and so does a later reattach.
if [ "${CRONIUM_KEEP_RUNNING:-0}" = 1 ]; then
  s=
  command -v setsid >/dev/null 2>&1 && s=setsid
  (
    exec >"$W/stdout" 2>"$W/stderr" </dev/null 3<&-
    launch $s &
    p=$!
    echo "$p" > "$W/pid"
    wait "$p"
    c=$?
    echo "$c" > "$W/exit.tmp" && mv -f "$W/exit.tmp" "$W/exit"
  ) &
  echo "$!" > "$W/wrapper"
  unset CRONIUM_EXECUTION_ID
  exec sh "${0%/*}/follow.sh" "$id" - "$grace"
fi
# $1 process group (= the script's pid), $2 grace (s), $3 work directory, $4 execution id, $5 our parent,
# $6 stop.sh, $7 collect.sh, $8 the nonce, $9 the collector's limits when the app asked for the helpers'
# results on this session (bundled mode: CRONIUM_COLLECT_INLINE, see below). sshd closes the control
# channel when the session's process exits: the end of input alone
# does not tell a normal end from a lost connection. So the watcher finds the sshd process serving this
# session (up from our parent, through /proc without starting a process, else ps) and, at the end of
# input, stops the tree only if the script is still running or that sshd is gone.
watch='
  info() {
    if [ -r "/proc/$1/stat" ]; then
      IFS= read -r l < "/proc/$1/stat" || return 1
      c=${l#*\(}; c=${c%)*}; l=${l##*) }; t=${l%% *}; l=${l#* }; q=${l%% *}
    else
      c=$(ps -o comm= -p "$1" 2>/dev/null) || return 1
      t=$(ps -o stat= -p "$1" 2>/dev/null); q=$(ps -o ppid= -p "$1" 2>/dev/null); q=${q##* }
    fi
  }
  # Whether anything of the script is left: its process group, or a process carrying its execution id
  # (one that made a session of its own), as stop.sh finds them. Such a process may still write to this
  # session, so the collector does not print there then.
  left() {
    if kill -0 -"$1" 2>/dev/null; then
      # A member only waiting to be reaped (a zombie: the process of the script is a child of sshd, reaped
      # when sshd gets to it) is gone: with /proc only a live member counts; without, kill -0 has the say.
      [ -r /proc/self/stat ] || return 0
      for s in /proc/[0-9]*/stat; do
        IFS= read -r l < "$s" 2>/dev/null || continue
        l=${l##*) }; st=${l%% *}; l=${l#* }; l=${l#* }
        [ "${l%% *}" = "$1" ] && [ "$st" != Z ] && return 0
      done
    fi
    for f in $(grep -l -F "CRONIUM_EXECUTION_ID=$2" /proc/[0-9]*/environ 2>/dev/null); do
      p=${f#/proc/}
      p=${p%/environ}
      [ "$p" != $$ ] && kill -0 "$p" 2>/dev/null && return 0
    done
    return 1
  }
  sshd=
  s=$5 i=0
  while [ "$i" -lt 8 ] && info "$s"; do
    case $c in sshd* | dropbear*) sshd=$s; break ;; esac
    s=$q i=$((i + 1))
  done
  stop=
  while IFS= read -r cmd; do [ "$cmd" = cancel ] && { stop=1; break; }; done
  if [ -z "$stop" ]; then
    if kill -0 "$1" 2>/dev/null; then stop=1
    elif [ -n "$sshd" ]; then
      stop=1
      if info "$sshd"; then case $t in Z*) ;; *) case $c in sshd* | dropbear*) stop= ;; esac ;; esac; fi
    fi
  fi
  [ -n "$stop" ] && sh "$6" "$4" "$2" "$1"
  if [ -n "$9" ] && ! left "$1" "$4"; then
    sh "$7" "$4" "$8" $9 >&2 2>/dev/null
  else
    [ "${CRONIUM_KEEP_WORKDIR:-0}" = 1 ] || rm -rf "$3" 2>/dev/null
  fi
'
# The watcher runs in a session of its own, so that it can tell whether anything of the script is left.
# It reads the control channel through fd 3: a background job's own stdin is /dev/null. It keeps the
# session's stderr open until it has cleaned up, so the channel closes (and the app records the end) only
# once the work directory is gone. It prints nothing there, but for one thing: in bundled mode, asked by
# the app (CRONIUM_COLLECT_INLINE, the collector's limits), it runs the collector itself once nothing of
# the script is left, and the helpers' results follow the script's stderr, framed by the nonce's control
# lines ("collect" ... "collected"): the script and its results take one session, not two. When something
# is left (a background job that may still write there), the work directory stays for the app's own
# collect, as without the request.
exec 3<&0
set -- "$pgid" "$grace" "$W" "$id" "$PPID" "${0%/*}/stop.sh" "${0%/*}/collect.sh" "$nonce" "${CRONIUM_COLLECT_INLINE:-}"
if command -v setsid >/dev/null 2>&1; then
  setsid sh -c "$watch" watcher "$@" <&3 >/dev/null 3<&- &
elif command -v perl >/dev/null 2>&1; then
  perl -e 'setpgrp(0, 0); exec @ARGV' sh -c "$watch" watcher "$@" <&3 >/dev/null 3<&- &
else
  # Last resort: the watcher shares the group, ignores TERM, and KILL (after the grace period) ends it too.
  (trap '' TERM; sh -c "$watch" watcher "$@") <&3 >/dev/null 3<&- &
fi
launch
