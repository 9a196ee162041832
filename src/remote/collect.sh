#!/bin/sh
# Bundled mode: prints what the script's helpers left in the work directory, framed as
# "\036<name> <bytes>\n<content>" per file, for the app to apply, then removes the work directory (in
# bundled mode the runner's watcher leaves it for this). Usage: sh collect.sh <executionId>
case $1 in '' | *[!A-Za-z0-9-]*) exit 2 ;; esac
cd "$HOME/.cronium/runs/$1" 2>/dev/null || exit 3
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
