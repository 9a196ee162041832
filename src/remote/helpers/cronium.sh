# Cronium runtime helpers for Bash, loaded through BASH_ENV before the script runs.
# Each helper exists as cronium.<name> and cronium_<name>. Failures print "cronium: <reason>" to stderr
# and return non-zero. API mode talks to the app through curl or wget; bundled mode uses files in
# $CRONIUM_WORK_DIR that the app collects when the script ends. The token is never put on a command line.

_cronium_fail() { printf 'cronium: %s\n' "$*" >&2; return 1; }
_cronium_hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }
_cronium_file() { printf '%s/.cronium.%s' "$CRONIUM_WORK_DIR" "$1"; }
_cronium_bundled() { [ "${CRONIUM_HELPER_MODE:-bundled}" = bundled ]; }
_cronium_url_key() { _cronium_hex "$1" | sed 's/../%&/g'; }

# The size limits the app sets (src/runtime/helperRules.ts), checked before anything is written or sent.
# Sizes are bytes of the text (LC_ALL=C makes ${#var} count bytes).
_cronium_fits() {
  local LC_ALL=C
  local size=${#2} limit=$3
  [ "$size" -le "$limit" ] && return 0
  _cronium_fail "the $1 is $size bytes, over the limit of $limit bytes ($((limit / 1048576)) MiB)"
}
# The key rule of every door (src/core/rules.ts variableKey), given by the app as CRONIUM_KEY_PATTERN (an
# ERE, read byte by byte under LC_ALL=C) with its message CRONIUM_KEY_ERROR, so that both modes refuse a
# bad key here, before anything is written or sent, with the app's own words.
_cronium_key() {
  local LC_ALL=C
  [ -z "${CRONIUM_KEY_PATTERN:-}" ] && return 0
  [[ $1 =~ $CRONIUM_KEY_PATTERN ]] && return 0
  _cronium_fail "${CRONIUM_KEY_ERROR:-Invalid input: key}"
}
# An output field key: the key rule, and not a name that reaches an object's prototype.
_cronium_field_key() {
  _cronium_key "$1" || return
  local reserved
  for reserved in ${CRONIUM_FIELD_KEY_RESERVED:-}; do
    [ "$1" = "$reserved" ] && { _cronium_fail "${CRONIUM_FIELD_KEY_ERROR:-Invalid input: key}"; return; }
  done
  return 0
}
_cronium_max_output() { printf '%s' "${CRONIUM_MAX_OUTPUT_BYTES:-16777216}"; }
_cronium_max_variable() { printf '%s' "${CRONIUM_MAX_VARIABLE_BYTES:-1048576}"; }

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
  _cronium_fail "$(_cronium_json_message "$_cronium_out")"
}

# Prints the "message" string of an error body, its JSON escapes (RFC 8259 §7) decoded: \" \\ \/ \b \f
# \n \r \t and \uXXXX. Without a message: the HTTP status.
_cronium_json_message() {
  local rest=${1#*\"message\":\"} out='' plain ch
  [ "$rest" = "$1" ] && { printf 'the app answered HTTP %s' "$_cronium_status"; return; }
  while [ -n "$rest" ]; do
    plain=${rest%%[\"\\]*}
    out+=$plain
    rest=${rest:${#plain}}
    case $rest in
      \"* | '') break ;;
      \\u[0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f]*) printf -v ch "\\u${rest:2:4}"; out+=$ch; rest=${rest:6} ;;
      \\n*) out+=$'\n'; rest=${rest:2} ;;
      \\t*) out+=$'\t'; rest=${rest:2} ;;
      \\r*) out+=$'\r'; rest=${rest:2} ;;
      \\b*) out+=$'\b'; rest=${rest:2} ;;
      \\f*) out+=$'\f'; rest=${rest:2} ;;
      *) out+=${rest:1:1}; rest=${rest:2} ;;
    esac
  done
  printf '%s' "$out"
}

# Bundled mode: prints a file of the work directory, or nothing when it is absent.
_cronium_cat() { [ -f "$1" ] && printf '%s' "$(cat "$1")"; }

# cronium.input [field]: the run's input as JSON ({} when the run has none); with a field (a dotted path,
# as in Cronium's runner helpers), just that field: strings raw, other values as JSON, missing: nothing.
cronium_input() {
  if [ $# -gt 0 ]; then _cronium_field input "$1"; return; fi
  if _cronium_bundled; then printf '%s\n' "$(cat "$(_cronium_file input.json)")"; return; fi
  _cronium_call GET 'input?format=raw' && _cronium_check && printf '%s\n' "$_cronium_out"
}

# cronium.event [field]: the execution's context as JSON, or one field of it (as cronium_event_field).
cronium_event() {
  if [ $# -gt 0 ]; then _cronium_field context "$1"; return; fi
  if _cronium_bundled; then printf '%s\n' "$(cat "$(_cronium_file context.json)")"; return; fi
  _cronium_call GET 'context?format=raw' && _cronium_check && printf '%s\n' "$_cronium_out"
}
cronium_event_field() {
  [ $# -eq 1 ] || { _cronium_fail "usage: cronium_event_field <field>"; return; }
  _cronium_field context "$1"
}

# _cronium_field input|context <path>: in bundled mode the app wrote each field as a file of its own.
_cronium_field() {
  local value
  if _cronium_bundled; then
    value=$(_cronium_cat "$(_cronium_file "field.$1.$(_cronium_hex "$2")")")
    [ -n "$value" ] && printf '%s\n' "$value"
    return 0
  fi
  local field; field=$(_cronium_url_key "$2")
  _cronium_call GET "$1?field=$field" && _cronium_check || return
  [ -n "$_cronium_out" ] && printf '%s\n' "$_cronium_out"
  return 0
}

# cronium.output <value>  or  ... | cronium.output: text that is JSON keeps its type, any other text is
# recorded as a string (as Cronium's SDK does). cronium.output <key> <value> (Cronium's runner helpers)
# sets one field of an object output.
cronium_output() {
  [ $# -le 2 ] || { _cronium_fail "usage: cronium.output [<key>] <value>  (or the value on stdin)"; return; }
  if [ $# -eq 2 ]; then _cronium_field_key "$1" || return; fi
  local data
  if [ $# -gt 0 ]; then data=${!#}; else data=$(cat); fi
  [ -n "$data" ] || { _cronium_fail "cronium.output needs a value, as an argument or on stdin"; return; }
  _cronium_fits output "$data" "$(_cronium_max_output)" || return
  if [ $# -eq 2 ]; then
    if _cronium_bundled; then
      local hex; hex=$(_cronium_hex "$1")
      printf '%s' "$data" | _cronium_write "$(_cronium_file "outfield.$hex")" || return
      printf '%s\n' "$hex" >> "$(_cronium_file outfields)"
      return
    fi
    _cronium_call POST "output?key=$(_cronium_url_key "$1")" 'text/plain; charset=utf-8' < <(printf '%s' "$data") && _cronium_check
    return
  fi
  if _cronium_bundled; then
    _cronium_clear_fields
    printf '%s' "$data" | _cronium_write "$(_cronium_file output.json)"
    return
  fi
  _cronium_call POST output 'text/plain; charset=utf-8' < <(printf '%s' "$data") && _cronium_check
}

# A whole output replaces the fields set so far (bundled mode).
_cronium_clear_fields() {
  [ -f "$(_cronium_file outfields)" ] || return 0
  rm -f "$(_cronium_file outfields)" "$CRONIUM_WORK_DIR"/.cronium.outfield.*
}

# Prints strings raw and other values as JSON; prints nothing (and succeeds) when the variable is unset.
cronium_getVariable() {
  [ $# -eq 1 ] || { _cronium_fail "usage: cronium.getVariable <key>"; return; }
  _cronium_key "$1" || return
  if _cronium_bundled; then
    local hex; hex=$(_cronium_hex "$1")
    local raw json; raw=$(_cronium_file "var.$hex.raw"); json=$(_cronium_file "var.$hex.json")
    if [ -f "$raw" ]; then printf '%s\n' "$(cat "$raw")"; elif [ -f "$json" ]; then printf '%s\n' "$(cat "$json")"; fi
    return 0
  fi
  _cronium_call GET "variables/$(_cronium_url_key "$1")?format=raw" || return
  [ "$_cronium_status" = 404 ] && return 0
  _cronium_check && printf '%s\n' "$_cronium_out"
}

# _cronium_store <op> <key> <text>: bundled mode's write of a variable. setraw: the text is JSON when it
# parses as JSON, else a string; settext: always a string.
_cronium_store() {
  local hex; hex=$(_cronium_hex "$2")
  printf '%s' "$3" | _cronium_write "$(_cronium_file "var.$hex.raw")" || return
  rm -f "$(_cronium_file "var.$hex.json")"
  printf '%s %s\n' "$1" "$hex" >> "$(_cronium_file changes)"
}

# cronium.setVariable <key> <value>: a value that is valid JSON keeps its type, anything else is a string.
cronium_setVariable() {
  [ $# -eq 2 ] || { _cronium_fail "usage: cronium.setVariable <key> <value>"; return; }
  _cronium_key "$1" || return
  _cronium_fits "variable value" "$2" "$(_cronium_max_variable)" || return
  if _cronium_bundled; then _cronium_store setraw "$1" "$2"; return; fi
  _cronium_call PUT "variables/$(_cronium_url_key "$1")" 'text/plain; charset=utf-8' < <(printf '%s' "$2") && _cronium_check
}

cronium_deleteVariable() {
  [ $# -eq 1 ] || { _cronium_fail "usage: cronium.deleteVariable <key>"; return; }
  _cronium_key "$1" || return
  if _cronium_bundled; then
    local hex; hex=$(_cronium_hex "$1")
    rm -f "$(_cronium_file "var.$hex.raw")" "$(_cronium_file "var.$hex.json")"
    printf 'delete %s\n' "$hex" >> "$(_cronium_file changes)"
    return
  fi
  _cronium_call DELETE "variables/$(_cronium_url_key "$1")" && _cronium_check
}

# Cronium's Bash SDK: true only when the variable is set to something that prints as non-empty.
cronium_variableExists() {
  [ $# -eq 1 ] || { _cronium_fail "usage: cronium_variable_exists <key>"; return; }
  local value; value=$(cronium_getVariable "$1" 2>/dev/null)
  [ -n "$value" ]
}

# cronium_increment_variable <key> [by]: adds a finite number (default 1; a JSON number's text) to the
# variable (unset or empty counts as 0) and prints the new value. API mode: the app does it in one atomic
# write, so concurrent executions never lose a count. Bundled mode: the increment is journalled as an
# operation ("incr <hex> <by>") that the app applies to the stored value atomically when it collects the
# run; what it prints is this run's view (the value when the run started, plus this run's own changes).
cronium_incrementVariable() {
  [ $# -ge 1 ] && [ $# -le 2 ] || { _cronium_fail "usage: cronium_increment_variable <key> [by]"; return; }
  _cronium_key "$1" || return
  local by=${2:-1} number='^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$'
  [[ $by =~ $number ]] || { _cronium_fail "the increment must be a finite number"; return; }
  # Text shaped like a number can still be beyond a double's range (1e400): as the app refuses it.
  if [[ ! $by =~ ^-?[0-9]{1,15}$ ]]; then
    case $(awk -v b="$by" 'BEGIN { printf "%.17g", b }') in
      *inf* | *nan*) _cronium_fail "the increment must be a finite number"; return ;;
    esac
  fi
  if _cronium_bundled; then
    local current next
    current=$(cronium_getVariable "$1") || return
    current=${current:-0}
    [[ $current =~ $number ]] || { _cronium_fail "variable \"$1\" is not a number, so it was not incremented"; return; }
    if [[ $current =~ ^-?[0-9]{1,15}$ && $by =~ ^-?[0-9]{1,15}$ ]]; then
      next=$((current + by))
    else
      next=$(awk -v a="$current" -v b="$by" 'BEGIN { printf "%.15g", a + b }')
      [[ $next =~ $number ]] || { _cronium_fail "variable \"$1\" plus $by is not a finite number, so it was not incremented"; return; }
    fi
    local hex; hex=$(_cronium_hex "$1")
    printf '%s' "$next" | _cronium_write "$(_cronium_file "var.$hex.raw")" || return
    rm -f "$(_cronium_file "var.$hex.json")"
    printf 'incr %s %s\n' "$hex" "$by" >> "$(_cronium_file changes)"
    printf '%s\n' "$next"
    return
  fi
  _cronium_call POST "variables/$(_cronium_url_key "$1")/increment?format=raw" application/json \
    < <(printf '{"by":%s}' "$by") && _cronium_check && printf '%s\n' "$_cronium_out"
}

# cronium_append_variable <key> <text> [separator]: the text alone when the variable is unset or empty,
# else the current value, the separator and the text; the result is a string.
cronium_appendVariable() {
  [ $# -ge 2 ] && [ $# -le 3 ] || { _cronium_fail "usage: cronium_append_variable <key> <text> [separator]"; return; }
  _cronium_key "$1" || return
  if _cronium_bundled; then
    local current; current=$(cronium_getVariable "$1") || return
    local next=$2
    [ -n "$current" ] && next="$current${3:-}$2"
    _cronium_fits "variable value" "$next" "$(_cronium_max_variable)" || return
    _cronium_store settext "$1" "$next"
    return
  fi
  local body
  body=$(mktemp) || return
  { printf '{"value":"'; _cronium_json_text "$2"; printf '","separator":"'; _cronium_json_text "${3:-}"; printf '"}'; } > "$body"
  _cronium_call POST "variables/$(_cronium_url_key "$1")/append" application/json < "$body"
  local rc=$?
  rm -f "$body"
  [ $rc -eq 0 ] && _cronium_check
}

# Prints text escaped for a JSON string (without the quotes).
_cronium_json_text() {
  local s=$1
  s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\n'/\\n}; s=${s//$'\r'/\\r}; s=${s//$'\t'/\\t}
  printf '%s' "$s"
}

# cronium.setCondition <value>: true/1/yes/on or false/0/no/off (any case), as Cronium's Bash SDK reads it.
cronium_setCondition() {
  local word=${1:-}
  word=${word//[[:space:]]/}
  case ${word,,} in
    true | 1 | yes | on) word=true ;;
    false | 0 | no | off) word=false ;;
    *) _cronium_fail "setCondition takes true/false, 1/0, yes/no or on/off"; return ;;
  esac
  if _cronium_bundled; then printf '%s' "$word" | _cronium_write "$(_cronium_file condition.json)"; return; fi
  _cronium_call POST condition application/json < <(printf '{"condition":%s}' "$word") && _cronium_check
}

cronium_getCondition() {
  if _cronium_bundled; then printf '%s\n' "$(cat "$(_cronium_file condition.json)")"; return; fi
  _cronium_call GET 'condition?format=raw' && _cronium_check && printf '%s\n' "$_cronium_out"
}

# cronium_execute_tool_action <tool> <action> [config-json]: asks the app to perform a tool action (tool
# slack, discord or email; action send_message), sent with the credentials the app stores (the script never
# sees them). API mode: sent at once, prints what the tool answered (JSON), fails when it was not sent.
# Bundled mode: queued, sent when the run is collected (the execution's detail says how); prints
# {"queued":true}.
cronium_executeToolAction() {
  [ $# -ge 2 ] && [ $# -le 3 ] || { _cronium_fail "usage: cronium_execute_tool_action <tool> <action> [config-json]"; return; }
  local config=${3:-'{}'}
  [[ $config =~ ^[[:space:]]*\{.*\}[[:space:]]*$ ]] || { _cronium_fail "the tool action's config must be a JSON object"; return; }
  local body
  body=$(printf '{"tool":"'; _cronium_json_text "$1"; printf '","action":"'; _cronium_json_text "$2"; printf '","config":%s}' "$config")
  _cronium_fits "tool action" "$body" "$(_cronium_max_variable)" || return
  if _cronium_bundled; then
    local index count=0 id
    index=$(_cronium_file actions)
    [ -f "$index" ] && count=$(wc -l < "$index")
    [ "$count" -lt "${CRONIUM_MAX_TOOL_ACTIONS:-100}" ] || { _cronium_fail "an execution may ask for at most ${CRONIUM_MAX_TOOL_ACTIONS:-100} tool actions"; return; }
    id="$$-${BASHPID:-0}-$RANDOM$RANDOM$RANDOM"
    printf '%s' "$body" | _cronium_write "$(_cronium_file "action.$id.json")" || return
    printf '%s\n' "$id" >> "$index"
    printf '{"queued":true}\n'
    return
  fi
  _cronium_call POST 'tool-actions?format=raw' application/json < <(printf '%s' "$body") && _cronium_check && printf '%s\n' "$_cronium_out"
}

# "a@x, b@y" as a JSON list of the addresses (Cronium's Bash SDK splits on commas and trims spaces).
_cronium_json_list() {
  local IFS=, part out='' sep=''
  local -a parts
  read -ra parts <<< "$1"
  for part in "${parts[@]}"; do
    part=${part#"${part%%[![:space:]]*}"}; part=${part%"${part##*[![:space:]]}"}
    [ -n "$part" ] || continue
    out+="$sep\"$(_cronium_json_text "$part")\""; sep=,
  done
  printf '[%s]' "$out"
}

# cronium_send_email <to> <subject> <body> [--cc a,b] [--bcc a,b] [--html] (Cronium's Bash SDK).
cronium_sendEmail() {
  [ $# -ge 3 ] || { _cronium_fail "usage: cronium_send_email <to> <subject> <body> [--cc A] [--bcc A] [--html]"; return; }
  local config
  config='{"to":'$(_cronium_json_list "$1")',"subject":"'$(_cronium_json_text "$2")'","body":"'$(_cronium_json_text "$3")'"'
  shift 3
  while [ $# -gt 0 ]; do
    case $1 in
      --cc | --bcc) [ $# -ge 2 ] || { _cronium_fail "$1 needs addresses"; return; }; config+=',"'${1#--}'":'$(_cronium_json_list "$2"); shift ;;
      --html) config+=',"html":true' ;;
      *) _cronium_fail "cronium_send_email: unknown option $1"; return ;;
    esac
    shift
  done
  cronium_executeToolAction email send_message "$config}"
}

# cronium_send_slack_message <channel> <text> [--username U] [--icon-emoji E] [--icon-url U] (Cronium's Bash SDK).
cronium_sendSlackMessage() {
  [ $# -ge 2 ] || { _cronium_fail "usage: cronium_send_slack_message <channel> <text> [--username U] [--icon-emoji E] [--icon-url U]"; return; }
  local config
  config='{"channel":"'$(_cronium_json_text "$1")'","text":"'$(_cronium_json_text "$2")'"'
  shift 2
  while [ $# -gt 0 ]; do
    [ $# -ge 2 ] || { _cronium_fail "$1 needs a value"; return; }
    case $1 in
      --username) config+=',"username":"'$(_cronium_json_text "$2")'"' ;;
      --icon-emoji) config+=',"icon_emoji":"'$(_cronium_json_text "$2")'"' ;;
      --icon-url) config+=',"icon_url":"'$(_cronium_json_text "$2")'"' ;;
      *) _cronium_fail "cronium_send_slack_message: unknown option $1"; return ;;
    esac
    shift 2
  done
  cronium_executeToolAction slack send_message "$config}"
}

# cronium_send_discord_message <channel_id> <content> [--embed JSON] (Cronium's Bash SDK).
cronium_sendDiscordMessage() {
  [ $# -ge 2 ] || { _cronium_fail "usage: cronium_send_discord_message <channel_id> <content> [--embed JSON]"; return; }
  local config
  config='{"channelId":"'$(_cronium_json_text "$1")'","content":"'$(_cronium_json_text "$2")'"'
  if [ $# -ge 4 ] && [ "$3" = --embed ]; then
    [[ $4 =~ ^[[:space:]]*\{.*\}[[:space:]]*$ ]] || { _cronium_fail "--embed takes a JSON object"; return; }
    config+=',"embeds":['"$4"']'
  elif [ $# -gt 2 ]; then
    _cronium_fail "usage: cronium_send_discord_message <channel_id> <content> [--embed JSON]"; return
  fi
  cronium_executeToolAction discord send_message "$config}"
}

# Cronium's SDK prints its version and connection; the token is never printed.
cronium_info() {
  echo "Cronium Bash helpers (Cronium Desktop)"
  echo "Mode: ${CRONIUM_HELPER_MODE:-bundled}"
  _cronium_bundled || echo "API URL: $CRONIUM_API_ENDPOINT"
  echo "Execution ID: $CRONIUM_EXECUTION_ID"
}

# Every helper under each of its names: cronium.<name>, cronium_<name>, and Cronium's Bash SDK's
# snake_case cronium_<snake_name>.
_cronium_alias() { eval "$1() { $2 \"\$@\"; }"; }
for _cronium_name in input output event getVariable setVariable deleteVariable setCondition getCondition \
  variableExists incrementVariable appendVariable executeToolAction sendEmail sendSlackMessage \
  sendDiscordMessage; do
  _cronium_alias "cronium.$_cronium_name" "cronium_$_cronium_name"
done
_cronium_alias cronium_get_variable cronium_getVariable
_cronium_alias cronium_set_variable cronium_setVariable
_cronium_alias cronium_delete_variable cronium_deleteVariable
_cronium_alias cronium_set_condition cronium_setCondition
_cronium_alias cronium_get_condition cronium_getCondition
_cronium_alias cronium_variable_exists cronium_variableExists
_cronium_alias cronium_increment_variable cronium_incrementVariable
_cronium_alias cronium_append_variable cronium_appendVariable
_cronium_alias cronium_execute_tool_action cronium_executeToolAction
_cronium_alias cronium_send_email cronium_sendEmail
_cronium_alias cronium_send_slack_message cronium_sendSlackMessage
_cronium_alias cronium_send_discord_message cronium_sendDiscordMessage
_cronium_alias cronium.info cronium_info
_cronium_alias cronium.eventField cronium_event_field
unset _cronium_name
