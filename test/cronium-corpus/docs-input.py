# cronium is automatically available - no imports needed!
input_data = cronium.input()
print(f"Received: {input_data}")

user_id = input_data.get('user_id', 'unknown')
message = input_data.get('message', 'Hello World')
config = input_data.get('config', {})

if message:
    print(f"Processing message: {message}")

cronium.output({"user_id": user_id, "message": message, "config": config})
