#!/bin/sh
# Bundled mode: prints what the script's helpers left in the work directory, framed as
# "\036<name> <bytes>\n<content>" per file, for the app to apply, then removes the work directory (in
# bundled mode the runner's watcher leaves it for this). A file larger than its limit (output, variable
# value, tool action: the 3rd and 4th arguments, in bytes) is not sent: "<name>.toolarge" carries its size instead.
# Usage: sh collect.sh <executionId> <nonce> [maxOutputBytes maxVariableBytes]
# The frames come between the control lines "\036cronium:<nonce>:collect" and "...:collected", so whatever a
# login shell prints around them is never taken for them.
case $1 in '' | *[!A-Za-z0-9-]*) exit 2 ;; esac
case $2 in *[!a-f0-9]*) exit 2 ;; esac
max_output=${3:-16777216}
max_variable=${4:-1048576}
cd "$HOME/.cronium/runs/$1" 2>/dev/null || { echo "no work directory $1" >&2; exit 3; }
printf '\036cronium:%s:collect\n' "$2"
emit() {
  [ -f "$1" ] || return 0
  # Arithmetic drops the padding some wc print ("     12"): one program per file, not two.
  size=$(($(wc -c < "$1")))
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
  while read -r op hex _by; do
    emit ".cronium.var.$hex.json" "$max_variable"
    emit ".cronium.var.$hex.raw" "$max_variable"
  done < .cronium.changes
fi
# Tool actions the script queued (bundled mode), in the order it asked for them; the app sends them.
emit .cronium.actions
if [ -f .cronium.actions ]; then
  while read -r id; do
    case $id in '' | *[!A-Za-z0-9_-]*) continue ;; esac
    emit ".cronium.action.$id.json" "$max_variable"
  done < .cronium.actions
fi
cd / && rm -rf "$HOME/.cronium/runs/$1"
printf '\036cronium:%s:collected\n' "$2"
