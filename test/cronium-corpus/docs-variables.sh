# cronium functions are automatically available - no sourcing needed!
example_api_key=$(cronium_getVariable "EXAMPLE_API_KEY")

redis_host=$(cronium_getVariable "REDIS_HOST")
if [[ -z "$redis_host" ]]; then
    redis_host="localhost"
fi

cronium_setVariable "LAST_PROCESSED" "2025-06-17T10:30:00Z"

counter=$(cronium_getVariable "COUNTER")
counter=${counter:-0}
new_counter=$((counter + 1))
cronium_setVariable "COUNTER" "$new_counter"

echo "Processing count: $(cronium_getVariable 'COUNTER')"
cronium_output "{\"key\": \"$example_api_key\", \"redis\": \"$redis_host\", \"counter\": \"$(cronium_getVariable COUNTER)\"}"
