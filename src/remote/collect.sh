#!/bin/sh
# Bundled mode: prints what the script's helpers left in the work directory, framed as
# "\036<name> <bytes>\n<content>" per file, for the app to apply, then removes the work directory (in
# bundled mode the runner's watcher leaves it for this). Usage: sh collect.sh <executionId> <nonce>
# The frames come between the control lines "\036cronium:<nonce>:collect" and "...:collected", so whatever a
# login shell prints around them is never taken for them.
case $1 in '' | *[!A-Za-z0-9-]*) exit 2 ;; esac
case $2 in *[!a-f0-9]*) exit 2 ;; esac
cd "$HOME/.cronium/runs/$1" 2>/dev/null || { echo "no work directory $1" >&2; exit 3; }
printf '\036cronium:%s:collect\n' "$2"
emit() {
  [ -f "$1" ] || return 0
  printf '\036%s %s\n' "$1" "$(wc -c < "$1" | tr -d ' ')"
  cat "$1"
}
emit .cronium.output.json
emit .cronium.condition.json
emit .cronium.changes
if [ -f .cronium.changes ]; then
  while read -r op hex; do
    emit ".cronium.var.$hex.json"
    emit ".cronium.var.$hex.raw"
  done < .cronium.changes
fi
cd / && rm -rf "$HOME/.cronium/runs/$1"
printf '\036cronium:%s:collected\n' "$2"
