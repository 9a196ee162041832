event = cronium.event()

print(f"Event ID: {event.get('id')}")
print(f"Event Name: {event.get('name')}")
print(f"Script Type: {event.get('type')}")
print(f"Run Location: {event.get('runLocation')}")
print(f"Success Count: {event.get('successCount', 0)}")
print(f"Failure Count: {event.get('failureCount', 0)}")

server = event.get('server')
if server:
    print(f"Running on server: {server.get('name')} ({server.get('address')})")
else:
    print("Running locally")

if event.get('type') == 'PYTHON':
    import json
    print("Running in Python environment")

cronium.output({k: event.get(k) for k in ("id", "name", "type", "runLocation", "eventName", "userId")})
