process_data() { echo 150; }

input_data=$(cronium_input)
threshold=$(echo "$input_data" | jq -r '.threshold // 100')
current_value=$(process_data)

if (( current_value > threshold )); then
    echo "Value $current_value exceeds threshold $threshold"
    cronium_setCondition true
else
    echo "Value $current_value is within threshold"
    cronium_setCondition false
fi

existing_condition=$(cronium_getCondition)
if [[ "$existing_condition" == "true" ]]; then
    echo "Condition was previously set to true"
fi
