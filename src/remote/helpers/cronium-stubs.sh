# Loaded through BASH_ENV into every Bash job: only small stubs, so a script that never calls a helper
# does not pay for parsing the library; the first call loads cronium.sh, which replaces them all.
_cronium_lib="${BASH_ENV%/*}/cronium.sh"
_cronium_load() { builtin . "$_cronium_lib"; }
for _cronium_name in input output event getVariable setVariable deleteVariable setCondition getCondition \
  variableExists incrementVariable appendVariable info eventField executeToolAction sendEmail sendSlackMessage \
  sendDiscordMessage; do
  eval "cronium_${_cronium_name}() { _cronium_load && cronium_${_cronium_name} \"\$@\"; }
cronium.${_cronium_name}() { _cronium_load && cronium_${_cronium_name} \"\$@\"; }"
done
for _cronium_name in event_field get_variable set_variable delete_variable set_condition get_condition \
  variable_exists increment_variable append_variable execute_tool_action send_email send_slack_message \
  send_discord_message; do
  eval "cronium_${_cronium_name}() { _cronium_load && cronium_${_cronium_name} \"\$@\"; }"
done
unset _cronium_name

# Scripts written for Cronium may start with `source /usr/local/bin/cronium.sh` (its SDK's usual path).
# Here the helpers are already loaded, and that file need not exist: when the script names a cronium.sh,
# `source` and `.` become functions that answer that path with the helpers and pass anything else to the
# builtin. Only then, because a file sourced from inside a function has its `declare`s made local.
[ -f "$0" ] && case $(< "$0") in
  *cronium.sh*)
    _cronium_source() {
      case $1 in
        */cronium.sh | cronium.sh)
          if [ "$1" = /usr/local/bin/cronium.sh ] || [ ! -f "$1" ]; then _cronium_load; return; fi ;;
      esac
      builtin source "$@"
    }
    source() { _cronium_source "$@"; }
    .() { _cronium_source "$@"; }
    ;;
esac
