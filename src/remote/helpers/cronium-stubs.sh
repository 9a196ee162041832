# Loaded through BASH_ENV into every Bash job: only small stubs, so a script that never calls a helper
# does not pay for parsing the library; the first call loads cronium.sh, which replaces them all.
_cronium_lib="${BASH_ENV%/*}/cronium.sh"
_cronium_load() { . "$_cronium_lib"; }
for _cronium_name in input output event getVariable setVariable deleteVariable setCondition getCondition; do
  eval "cronium_${_cronium_name}() { _cronium_load && cronium_${_cronium_name} \"\$@\"; }
cronium.${_cronium_name}() { _cronium_load && cronium_${_cronium_name} \"\$@\"; }"
done
unset _cronium_name
