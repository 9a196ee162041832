# Cronium runtime helpers for Bash, loaded through BASH_ENV before the script runs.
# Each helper exists as cronium.<name> and cronium_<name>. Failures print "cronium: <reason>" to stderr
# and return non-zero. API mode talks to the app through curl or wget; bundled mode uses files in
# $CRONIUM_WORK_DIR that the app collects when the script ends. The token is never put on a command line.

_cronium_fail() { printf 'cronium: %s\n' "$*" >&2; return 1; }
_cronium_hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }
_cronium_file() { printf '%s/.cronium.%s' "$CRONIUM_WORK_DIR" "$1"; }
_cronium_bundled() { [ "${CRONIUM_HELPER_MODE:-bundled}" = bundled ]; }

# Writes stdin to a file atomically (a reader never sees half of it).
_cronium_write() { local tmp="$1.tmp.$$"; cat > "$tmp" && mv -f "$tmp" "$1"; }

# _cronium_api METHOD PATH [CONTENT_TYPE] — the body, if any, on stdin. Prints the response body and,
# on a last line of its own, the HTTP status.
_cronium_api() {
  # (one `local` expands all its words before assigning any, hence two)
  local method=$1 path=$2 ctype=${3:-} out
  local url="$CRONIUM_API_ENDPOINT/executions/$CRONIUM_EXECUTION_ID/$path"
  local client=${CRONIUM_HTTP_CLIENT:-}
  if [ -z "$client" ]; then
    if command -v curl >/dev/null 2>&1; then client=curl; elif command -v wget >/dev/null 2>&1; then client=wget; else
      _cronium_fail "neither curl nor wget is installed"; return; fi
  fi
  if [ "$client" = curl ]; then
    if [ -n "$ctype" ]; then
      out=$(curl -sS -X "$method" -K <(printf 'header = "Authorization: Bearer %s"\n' "$CRONIUM_API_TOKEN") \
        -H "Content-Type: $ctype" --data-binary @- -w '\n%{http_code}' "$url") || { _cronium_fail "the app could not be reached"; return; }
    else
      out=$(curl -sS -X "$method" -K <(printf 'header = "Authorization: Bearer %s"\n' "$CRONIUM_API_TOKEN") \
        -w '\n%{http_code}' "$url" </dev/null) || { _cronium_fail "the app could not be reached"; return; }
    fi
  else
    # wget reads --config twice, so (unlike curl's -K) it cannot be a pipe: the token goes in a 0600 file
    # inside the 0700 work directory, removed straight after.
    local body config
    body=$(mktemp "${CRONIUM_WORK_DIR:-$HOME}/.cronium-body.XXXXXX") || return
    config=$(mktemp "${CRONIUM_WORK_DIR:-$HOME}/.cronium-wgetrc.XXXXXX") || { rm -f "$body"; return 1; }
    printf 'header = Authorization: Bearer %s\n' "$CRONIUM_API_TOKEN" > "$config"
    [ -n "$ctype" ] && cat > "$body"
    out=$(wget -q -O - --content-on-error --method="$method" --config="$config" \
      ${ctype:+--header="Content-Type: $ctype" --body-file="$body"} "$url" 2>/dev/null)
    local rc=$?
    rm -f "$body" "$config"
    case $rc in
      0) out="$out"$'\n'200 ;;
      8) if [[ $out == *'"not_found"'* ]]; then out="$out"$'\n'404; else out="$out"$'\n'400; fi ;;
      *) _cronium_fail "the app could not be reached"; return ;;
    esac
  fi
  printf '%s' "$out"
}

# Calls the API in this shell (not a subshell): sets _cronium_out and _cronium_status.
_cronium_call() {
  local resp
  resp=$(_cronium_api "$@") || return
  _cronium_status=${resp##*$'\n'}
  _cronium_out=${resp%$'\n'*}
}

_cronium_check() {
  case $_cronium_status in 2??) return 0 ;; esac
  local message=${_cronium_out#*\"message\":\"}
  _cronium_fail "${message%%\"*}"
}

cronium_input() {
  if _cronium_bundled; then printf '%s\n' "$(cat "$(_cronium_file input.json)")"; return; fi
  _cronium_call GET 'input?format=raw' && _cronium_check && printf '%s\n' "$_cronium_out"
}

cronium_event() {
  if _cronium_bundled; then printf '%s\n' "$(cat "$(_cronium_file context.json)")"; return; fi
  _cronium_call GET 'context?format=raw' && _cronium_check && printf '%s\n' "$_cronium_out"
}

# cronium.output '<json>'  or  ... | cronium.output
cronium_output() {
  local data
  if [ $# -gt 0 ]; then data=$1; else data=$(cat); fi
  [ -n "$data" ] || { _cronium_fail "cronium.output needs JSON, as an argument or on stdin"; return; }
  if _cronium_bundled; then printf '%s' "$data" | _cronium_write "$(_cronium_file output.json)"; return; fi
  _cronium_call POST output application/json < <(printf '{"data":%s}' "$data") && _cronium_check
}

# Prints strings raw and other values as JSON; prints nothing (and succeeds) when the variable is unset.
cronium_getVariable() {
  [ $# -eq 1 ] || { _cronium_fail "usage: cronium.getVariable <key>"; return; }
  if _cronium_bundled; then
    local hex; hex=$(_cronium_hex "$1")
    local raw json; raw=$(_cronium_file "var.$hex.raw"); json=$(_cronium_file "var.$hex.json")
    if [ -f "$raw" ]; then printf '%s\n' "$(cat "$raw")"; elif [ -f "$json" ]; then printf '%s\n' "$(cat "$json")"; fi
    return 0
  fi
  local key; key=$(_cronium_hex "$1" | sed 's/../%&/g')
  _cronium_call GET "variables/$key?format=raw" || return
  [ "$_cronium_status" = 404 ] && return 0
  _cronium_check && printf '%s\n' "$_cronium_out"
}

# cronium.setVariable <key> <value>: a value that is valid JSON keeps its type, anything else is a string.
cronium_setVariable() {
  [ $# -eq 2 ] || { _cronium_fail "usage: cronium.setVariable <key> <value>"; return; }
  if _cronium_bundled; then
    local hex; hex=$(_cronium_hex "$1")
    printf '%s' "$2" | _cronium_write "$(_cronium_file "var.$hex.raw")" || return
    rm -f "$(_cronium_file "var.$hex.json")"
    printf 'setraw %s\n' "$hex" >> "$(_cronium_file changes)"
    return
  fi
  local key; key=$(_cronium_hex "$1" | sed 's/../%&/g')
  _cronium_call PUT "variables/$key" 'text/plain; charset=utf-8' < <(printf '%s' "$2") && _cronium_check
}

cronium_deleteVariable() {
  [ $# -eq 1 ] || { _cronium_fail "usage: cronium.deleteVariable <key>"; return; }
  if _cronium_bundled; then
    local hex; hex=$(_cronium_hex "$1")
    rm -f "$(_cronium_file "var.$hex.raw")" "$(_cronium_file "var.$hex.json")"
    printf 'delete %s\n' "$hex" >> "$(_cronium_file changes)"
    return
  fi
  local key; key=$(_cronium_hex "$1" | sed 's/../%&/g')
  _cronium_call DELETE "variables/$key" && _cronium_check
}

cronium_setCondition() {
  case ${1:-} in true | false) ;; *) _cronium_fail "usage: cronium.setCondition true|false"; return ;; esac
  if _cronium_bundled; then printf '%s' "$1" | _cronium_write "$(_cronium_file condition.json)"; return; fi
  _cronium_call POST condition application/json < <(printf '{"condition":%s}' "$1") && _cronium_check
}

cronium_getCondition() {
  if _cronium_bundled; then printf '%s\n' "$(cat "$(_cronium_file condition.json)")"; return; fi
  _cronium_call GET 'condition?format=raw' && _cronium_check && printf '%s\n' "$_cronium_out"
}

cronium.input() { cronium_input "$@"; }
cronium.output() { cronium_output "$@"; }
cronium.event() { cronium_event "$@"; }
cronium.getVariable() { cronium_getVariable "$@"; }
cronium.setVariable() { cronium_setVariable "$@"; }
cronium.deleteVariable() { cronium_deleteVariable "$@"; }
cronium.setCondition() { cronium_setCondition "$@"; }
cronium.getCondition() { cronium_getCondition "$@"; }
