#!/bin/bash
main() {
    input_data=$(cronium_input)
    event_data=$(cronium_event)

    event_name=$(echo "$event_data" | jq -r '.name')
    echo "Processing event: $event_name"

    max_retries=$(cronium_getVariable "MAX_RETRIES")
    max_retries=${max_retries:-3}
    api_endpoint=$(cronium_getVariable "API_ENDPOINT")

    items=$(echo "$input_data" | jq -r '.items[]?')
    processed_count=0
    error_count=0

    while IFS= read -r item; do
        if [[ -n "$item" && "$item" != "null" ]]; then
            if process_item "$item" "$api_endpoint"; then
                ((processed_count++))
            else
                ((error_count++))
            fi
        fi
    done <<< "$items"

    total_processed=$(cronium_getVariable "TOTAL_PROCESSED")
    total_processed=${total_processed:-0}
    new_total=$((total_processed + processed_count))
    cronium_setVariable "TOTAL_PROCESSED" "$new_total"

    total_items=$((processed_count + error_count))
    if [[ $total_items -gt 0 ]]; then
        success_rate=$(echo "scale=2; $processed_count / $total_items" | bc -l)
        if (( $(echo "$success_rate > 0.8" | bc -l) )); then
            cronium_setCondition true
        else
            cronium_setCondition false
        fi
    else
        cronium_setCondition true
        success_rate=1.0
    fi

    result="{
        \"success\": $([ $error_count -eq 0 ] && echo true || echo false),
        \"processed_count\": $processed_count,
        \"error_count\": $error_count,
        \"success_rate\": $success_rate
    }"
    cronium_output "$result"

    echo "Processed $processed_count items with $error_count errors"
}

process_item() {
    local item="$1"
    local endpoint="$2"
    [ "$item" -ge 0 ]
}

main "$@"
