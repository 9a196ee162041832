#!/bin/sh
# Bundled mode: prints what the script's helpers left in the work directory, framed as
# "\036<name> <bytes>\n<content>" per file, for the app to apply, then removes the work directory (in
# bundled mode the runner's watcher leaves it for this). A file larger than its limit (output, variable
# value: the 2nd and 3rd arguments, in bytes) is not sent: "<name>.toolarge" carries its size instead.
# Usage: sh collect.sh <executionId> [maxOutputBytes maxVariableBytes]
case $1 in '' | *[!A-Za-z0-9-]*) exit 2 ;; esac
max_output=${2:-16777216}
max_variable=${3:-1048576}
cd "$HOME/.cronium/runs/$1" 2>/dev/null || exit 3
emit() {
  [ -f "$1" ] || return 0
  size=$(wc -c < "$1" | tr -d ' ')
  if [ -n "$2" ] && [ "$size" -gt "$2" ]; then
    printf '\036%s.toolarge %s\n%s' "$1" "${#size}" "$size"
    return 0
  fi
  printf '\036%s %s\n' "$1" "$size"
  cat "$1"
}
emit .cronium.output.json "$max_output"
emit .cronium.outfields
if [ -f .cronium.outfields ]; then
  while read -r hex; do emit ".cronium.outfield.$hex" "$max_output"; done < .cronium.outfields
fi
emit .cronium.condition.json
emit .cronium.changes
if [ -f .cronium.changes ]; then
  while read -r op hex; do
    emit ".cronium.var.$hex.json" "$max_variable"
    emit ".cronium.var.$hex.raw" "$max_variable"
  done < .cronium.changes
fi
cd / && rm -rf "$HOME/.cronium/runs/$1"
