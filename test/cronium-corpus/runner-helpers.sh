#!/bin/bash
# After the Cronium runner's helper tests: dotted helper names, field lookups, typed values.
name=$(cronium.input name)
value=$(cronium.input value)
host=$(cronium.input config.host)
echo "Name: $name, Value: $value, Host: $host"

api_key=$(cronium.getVariable API_KEY)
debug=$(cronium.getVariable DEBUG)
echo "API_KEY: $api_key, DEBUG: $debug"

cronium.setVariable NEW_VAR "test_value"
cronium.setVariable COUNTER 42

event_id=$(cronium.event id)
event_name=$(cronium.event name)
echo "Event: $event_id - $event_name"

missing=$(cronium.input nonexistent)
echo "missing:[${missing}]"
echo "{\"name\": \"$name\", \"value\": $value}" | cronium.output
