#!/bin/bash
# Example Bash script with unified I/O (after Cronium's default template)

echo "Starting Bash script execution..."

input_data=$(cronium_input)
echo "Input received: $input_data"

if [ -n "$EXAMPLE_API_KEY" ]; then
    echo "Environment variable example: API key found"
else
    echo "Environment variable example: No API key set"
fi

if command -v jq >/dev/null 2>&1; then
    user_id=$(echo "$input_data" | jq -r '.user_id // "unknown"')
    echo "Processing for user: $user_id"
fi

TIMESTAMP=$(date -Iseconds)
RESULT=42

output_data=$(cat << EOF2
{
  "success": true,
  "message": "Bash processing completed",
  "processed_input": $input_data,
  "calculation_result": $RESULT,
  "timestamp": "$TIMESTAMP"
}
EOF2
)

cronium_output "$output_data"
echo "Script execution completed successfully!"
