# After the scenarios of Cronium's SDK integration notes: input/output, variables, condition, event, errors.
import cronium
from datetime import datetime
from cronium import CroniumError, CroniumAPIError

data = cronium.input()
print(f"Input: {data}")

cronium.set_variable("counter", 1)
cronium.set_variable("last_run", datetime.now().isoformat())
cronium.set_variable("config", {"mode": "test", "debug": True})
counter = cronium.get_variable("counter")
config = cronium.get_variable("config")
cronium.set_variable("counter", counter + 1)

items_processed = 0
if data and isinstance(data, list):
    for item in data:
        items_processed += 1
cronium.set_condition(items_processed > 0)

event = cronium.event()
print(f"Event Type: {event.get('type')}")

try:
    value = cronium.get_variable("non_existent_var")
    if value is None:
        print("Variable not found")
    cronium.output({"processed": True, "count": len(data) if data else 0, "config": config, "items_processed": items_processed})
except CroniumAPIError as e:
    print(f"API Error: {e.status_code} - {e.message}")
except CroniumError as e:
    print(f"Cronium Error: {e}")
