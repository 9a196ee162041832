# Written against Cronium's Python SDK: snake_case names, its instance, its error classes.
import cronium
from cronium import cronium as client

runs = cronium.get_variable("sdk_runs") or 0
cronium.set_variable("sdk_runs", runs + 1)
cronium.set_variable("sdk_tags", ["a", "b"])
cronium.set_condition(1)

try:
    cronium.set_variable("sdk_huge", "x" * (2 * 1024 * 1024))
    refused = None
except cronium.CroniumAPIError as e:
    refused = e.status_code

try:
    cronium.set_condition("perhaps")
    bad_condition = None
except cronium.CroniumError as e:
    bad_condition = type(e).__name__

ctx = client.event()
cronium.output({
    "runs_before": runs,
    "tags": client.get_variable("sdk_tags"),
    "refused": refused,
    "bad_condition": bad_condition,
    "timeout_is_error": issubclass(cronium.CroniumTimeoutError, cronium.CroniumError),
    "type": ctx["type"],
    "input": cronium.input(),
})
