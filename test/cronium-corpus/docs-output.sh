result='{
    "success": true,
    "message": "Data processed successfully",
    "data": {
        "processed_items": 42,
        "total_time": "2.5s",
        "errors": []
    },
    "next_action": "send_notification"
}'
cronium_output "$result"
