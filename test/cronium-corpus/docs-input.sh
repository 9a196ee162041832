# cronium functions are automatically available - no sourcing needed!
input_data=$(cronium_input)
echo "Received: $input_data"

user_id=$(echo "$input_data" | jq -r '.user_id // "unknown"')
message=$(echo "$input_data" | jq -r '.message // "Hello World"')

if [[ "$message" != "null" && "$message" != "" ]]; then
    echo "Processing message: $message"
fi
cronium_output "{\"user_id\": \"$user_id\", \"message\": \"$message\", \"config\": {}}"
