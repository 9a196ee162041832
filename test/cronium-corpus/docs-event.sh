event_data=$(cronium_event)

event_id=$(echo "$event_data" | jq -r '.id')
event_name=$(echo "$event_data" | jq -r '.name')
script_type=$(echo "$event_data" | jq -r '.type')
run_location=$(echo "$event_data" | jq -r '.runLocation')

echo "Event ID: $event_id"
echo "Event Name: $event_name"
echo "Script Type: $script_type"
echo "Run Location: $run_location"

success_count=$(echo "$event_data" | jq -r '.successCount // 0')
failure_count=$(echo "$event_data" | jq -r '.failureCount // 0')
echo "Success Count: $success_count"
echo "Failure Count: $failure_count"

server_name=$(echo "$event_data" | jq -r '.server.name // "local"')
server_address=$(echo "$event_data" | jq -r '.server.address // ""')
if [[ "$server_name" != "local" && "$server_name" != "null" ]]; then
    echo "Running on server: $server_name ($server_address)"
else
    echo "Running locally"
fi

user_id=$(echo "$event_data" | jq -r '.userId')
event_name2=$(echo "$event_data" | jq -r '.eventName')
cronium_output "{\"id\":\"$event_id\",\"name\":\"$event_name\",\"type\":\"$script_type\",\"runLocation\":\"$run_location\",\"eventName\":\"$event_name2\",\"userId\":\"$user_id\"}"
