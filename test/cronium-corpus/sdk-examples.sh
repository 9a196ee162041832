#!/bin/bash
# After the scenarios of Cronium's SDK integration notes: input/output, variables, condition, event, errors.
source /usr/local/bin/cronium.sh

input=$(cronium_input)
echo "Input: $input"

cronium_set_variable "counter" 1
cronium_set_variable "last_run" "$(date -Iseconds)"
cronium_set_variable "config" '{"mode": "test", "debug": true}'
counter=$(cronium_get_variable "counter")
cronium_set_variable "counter" "$((counter + 1))"

items_processed=0
if [ -n "$input" ]; then
    items_processed=$(echo "$input" | jq 'length // 0')
fi
if [ "$items_processed" -gt 0 ]; then
    cronium_set_condition true
else
    cronium_set_condition false
fi

echo "Event Type: $(cronium_event_field "type")"

value=$(cronium_get_variable "non_existent_var" 2>&1)
if [ $? -ne 0 ] || [ -z "$value" ]; then
    echo "Variable not found"
fi
if cronium_variable_exists "non_existent_var"; then
    echo "Variable exists"
fi
config=$(cronium_get_variable "config")
if cronium_output "{\"processed\": true, \"count\": $items_processed, \"config\": $config, \"items_processed\": $items_processed}"; then
    echo "Output set successfully"
fi
