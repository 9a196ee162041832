#!/bin/bash
# Written against Cronium's Bash SDK: sourced from its usual path, its snake_case functions.
source /usr/local/bin/cronium.sh

cronium_info > /dev/null
name=$(cronium_event_field name)
type=$(cronium_event_field type)
address=$(cronium_event_field server.address)

previous=$(cronium_get_variable "sdk_runs")
cronium_set_variable "sdk_runs" "$(( ${previous:-0} + 1 ))"
cronium_increment_variable "sdk_count" 5 > /dev/null
total=$(cronium_increment_variable "sdk_count")
cronium_append_variable "sdk_log" "first"
cronium_append_variable "sdk_log" "second" ","
cronium_set_variable "sdk_gone" "soon"
cronium_variable_exists "sdk_gone" && existed=yes
cronium_delete_variable "sdk_gone"
cronium_variable_exists "sdk_gone" || gone=yes
cronium_set_condition on

echo "event $name ($type) on $address; count $total; $existed/$gone"
cronium_output "Hello from $name"
