#!/usr/bin/env python3
# Example Python script with unified I/O (after Cronium's default template)

import os
import sys
import json
from datetime import datetime

print("Starting Python script execution...")

input_data = cronium.input()
print(f"Input received: {input_data}")

example_api_key = os.environ.get('EXAMPLE_API_KEY')
print(f"Environment variable example: {'API key found' if example_api_key else 'No API key set'}")

def main():
    try:
        input_data = cronium.input()
        result = {
            "success": True,
            "message": "Python processing completed",
            "processed_input": input_data,
            "calculation_result": 42,
            "timestamp": datetime.now().isoformat()
        }
        cronium.output(result)
        return result
    except Exception as e:
        error_result = {"success": False, "error": str(e), "timestamp": datetime.now().isoformat()}
        cronium.output(error_result)
        return error_result

if __name__ == "__main__":
    result = main()
    print("Script completed successfully")
