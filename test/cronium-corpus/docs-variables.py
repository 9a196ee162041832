example_api_key = cronium.getVariable('EXAMPLE_API_KEY')
redis_host = cronium.getVariable('REDIS_HOST') or 'localhost'

cronium.setVariable('LAST_PROCESSED', '2025-06-17T10:30:00Z')
cronium.setVariable('COUNTER', str(int(cronium.getVariable('COUNTER') or '0') + 1))

print(f"Processing count: {cronium.getVariable('COUNTER')}")
cronium.output({"key": example_api_key, "redis": redis_host, "counter": cronium.getVariable('COUNTER')})
