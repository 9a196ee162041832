"""Cronium runtime helpers for Python (standard library only).

Available as the builtin ``cronium`` (no import needed) and as ``import cronium``. In API mode calls go to
the app over the reverse tunnel (one kept-alive HTTP connection); in bundled mode they use files in the
work directory that the app collects when the script ends. Values keep their JSON types.
"""
import http.client
import json
import math
import os
import re
import socket
import urllib.parse

__all__ = ["input", "output", "event", "getVariable", "setVariable", "deleteVariable",
           "setCondition", "getCondition", "incrementVariable", "appendVariable", "variableExists",
           "get_variable", "set_variable", "delete_variable", "set_condition", "get_condition",
           "increment_variable", "append_variable", "variable_exists", "get_input", "set_output",
           "getInput", "setOutput", "executeToolAction", "sendEmail", "sendSlackMessage",
           "sendDiscordMessage", "execute_tool_action", "send_email", "send_slack_message",
           "send_discord_message", "Cronium", "AsyncCronium", "cronium",
           "CroniumError", "CroniumAPIError", "CroniumTimeoutError"]


class CroniumError(RuntimeError):
    """A helper call failed (the app said no, or could not be reached)."""


class CroniumAPIError(CroniumError):
    """The app refused the call (Cronium's name): ``status_code`` is the HTTP status, ``message`` why.

    Bundled mode raises it for the same refusals (a value over its limit: 413; a bad argument: 400).
    """

    def __init__(self, status_code, message):
        self.status_code = status_code
        self.message = message
        super().__init__(message)


class CroniumTimeoutError(CroniumError):
    """The app did not answer in time (Cronium's name)."""


_MAX_OUTPUT = int(os.environ.get("CRONIUM_MAX_OUTPUT_BYTES", 16777216))
_MAX_VARIABLE = int(os.environ.get("CRONIUM_MAX_VARIABLE_BYTES", 1048576))


# The key rule of every door (src/core/rules.ts variableKey), given by the app with its message, so that
# both modes refuse a bad key here, before anything is written or sent, in the app's own words.
_KEY_PATTERN = os.environ.get("CRONIUM_KEY_PATTERN", "")
_KEY_ERROR = os.environ.get("CRONIUM_KEY_ERROR", "Invalid input: key")


def _check_key(key):
    if _KEY_PATTERN and not (isinstance(key, str) and re.fullmatch(_KEY_PATTERN, key, re.ASCII)):
        raise CroniumAPIError(400, _KEY_ERROR)
    return key


def _dumps(value):
    """Compact JSON text, as the app measures and stores it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _fits(what, text, limit):
    size = len(text.encode("utf-8"))
    if size > limit:
        raise CroniumAPIError(413, "the %s is %d bytes, over the limit of %d bytes (%d MiB)"
                              % (what, size, limit, limit // 1048576))
    return text


_MODE = os.environ.get("CRONIUM_HELPER_MODE", "bundled")
_WORK = os.environ.get("CRONIUM_WORK_DIR", os.getcwd())
_EXEC = os.environ.get("CRONIUM_EXECUTION_ID", "")
_conn = None


def _api(method, path, body=None):
    global _conn
    endpoint = urllib.parse.urlsplit(os.environ["CRONIUM_API_ENDPOINT"])
    headers = {"Authorization": "Bearer " + os.environ["CRONIUM_API_TOKEN"]}
    data = None
    if body is not None:
        data = (body if isinstance(body, str) else _dumps(body)).encode("utf-8")
        headers["Content-Type"] = "application/json"
    for attempt in (1, 2):
        if _conn is None:
            _conn = http.client.HTTPConnection(endpoint.hostname, endpoint.port, timeout=30)
        try:
            _conn.request(method, "/executions/%s/%s" % (_EXEC, path), body=data, headers=headers)
            response = _conn.getresponse()
            payload = response.read()
            break
        except socket.timeout as err:
            _conn.close()
            _conn = None
            raise CroniumTimeoutError("the app did not answer in time: %s" % err) from None
        except (http.client.HTTPException, OSError) as err:
            _conn.close()
            _conn = None
            if attempt == 2:
                raise CroniumError("the app could not be reached: %s" % err) from None
    try:
        parsed = json.loads(payload.decode("utf-8"))
    except ValueError:
        raise CroniumError("the app sent an unreadable answer (HTTP %d)" % response.status) from None
    return response.status, parsed


def _ok(status, parsed):
    if status // 100 != 2:
        raise CroniumAPIError(status, parsed.get("message") or parsed.get("error") or "HTTP %d" % status)
    return parsed.get("data")


def _path(name):
    return os.path.join(_WORK, ".cronium." + name)


def _read(name, default=None):
    try:
        with open(_path(name), "r", encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return default


def _write(name, text):
    tmp = _path(name) + ".tmp.%d" % os.getpid()
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, _path(name))


def _journal(op, hexkey):
    with open(_path("changes"), "a", encoding="utf-8") as f:
        f.write("%s %s\n" % (op, hexkey))


def _hex(key):
    return key.encode("utf-8").hex()


def _key_path(key):
    return "variables/" + urllib.parse.quote(key, safe="")


def input():  # noqa: A001 - the Cronium API's name
    """The run's input ({} when the run was given none, as Cronium's helpers give)."""
    if _MODE == "bundled":
        value = _read("input.json")
    else:
        value = _ok(*_api("GET", "input"))
    return {} if value is None else value


def output(data):
    """Sets the execution's output (any JSON value, up to 16 MiB of JSON text)."""
    text = _fits("output", _dumps(data), _MAX_OUTPUT)
    if _MODE == "bundled":
        _clear_fields()
        _write("output.json", text)
        return None
    _ok(*_api("POST", "output", '{"data":%s}' % text))
    return None


def _clear_fields():
    """A whole output replaces the fields Bash set one by one so far (bundled mode)."""
    if not os.path.exists(_path("outfields")):
        return
    for name in os.listdir(_WORK):
        if name.startswith(".cronium.outfield.") or name == ".cronium.outfields":
            os.remove(os.path.join(_WORK, name))


def event():
    """The execution's context: Cronium's fields (id, name, type, server, counts, ...) and ours."""
    if _MODE == "bundled":
        return _read("context.json", {})
    return _ok(*_api("GET", "context"))


def getVariable(key):
    """A shared variable's value, or None when it is not set."""
    _check_key(key)
    if _MODE == "bundled":
        hexkey = _hex(key)
        if os.path.exists(_path("var.%s.json" % hexkey)):
            return _read("var.%s.json" % hexkey)
        raw = _path("var.%s.raw" % hexkey)
        if os.path.exists(raw):
            with open(raw, "r", encoding="utf-8") as f:
                text = f.read()
            if _last_op(hexkey) == "settext":
                return text
            try:
                return json.loads(text)
            except ValueError:
                return text
        return None
    status, parsed = _api("GET", _key_path(key))
    if status == 404:
        return None
    return _ok(status, parsed)["value"]


def _last_op(hexkey):
    """The last journalled operation on a key in bundled mode (how its .raw file is to be read)."""
    last = None
    try:
        with open(_path("changes"), "r", encoding="utf-8") as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2 and parts[1] == hexkey:
                    last = parts[0]
    except FileNotFoundError:
        pass
    return last


def setVariable(key, value):
    """Sets a shared variable (any JSON value, up to 1 MiB of JSON text)."""
    _check_key(key)
    text = _fits("variable value", _dumps(value), _MAX_VARIABLE)
    if _MODE == "bundled":
        hexkey = _hex(key)
        _write("var.%s.json" % hexkey, text)
        try:
            os.remove(_path("var.%s.raw" % hexkey))
        except FileNotFoundError:
            pass
        _journal("set", hexkey)
        return None
    _ok(*_api("PUT", _key_path(key), '{"value":%s}' % text))
    return None


def deleteVariable(key):
    """Removes a shared variable."""
    _check_key(key)
    if _MODE == "bundled":
        hexkey = _hex(key)
        for name in ("var.%s.json" % hexkey, "var.%s.raw" % hexkey):
            try:
                os.remove(_path(name))
            except FileNotFoundError:
                pass
        _journal("delete", hexkey)
        return None
    _ok(*_api("DELETE", _key_path(key)))
    return None


def _text(value):
    """A value as Bash prints it: strings raw, others as JSON, unset as empty."""
    if value is None:
        return ""
    return value if isinstance(value, str) else _dumps(value)


_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")


def _number(value):
    """A finite number from a number or a JSON number's text (trimmed); None for anything else."""
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, (int, float)):
            return value if math.isfinite(value) else None
        if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
            text = value.strip()
            n = int(text) if re.fullmatch(r"-?[0-9]+", text) else float(text)
            return n if math.isfinite(n) else None
    except OverflowError:
        # An int beyond a float's range (10**400): no finite number the app could store.
        return None
    return None


def _tidy(n):
    """Integers stay integers: 3.0 becomes 3, as the app writes it (JSON text "3")."""
    return int(n) if isinstance(n, float) and n.is_integer() and abs(n) < 2 ** 53 else n


def incrementVariable(key, by=1):
    """Adds a finite number (default 1) to a variable (unset counts as 0) and returns the new value.

    API mode: the app does it in one atomic write, so concurrent executions never lose a count. Bundled
    mode: the increment is journalled as an operation the app applies atomically when it collects the
    run; the value returned is this run's view (the value when it started plus its own changes).
    """
    _check_key(key)
    step = _number(by)
    if step is None:
        raise CroniumAPIError(400, "the increment must be a finite number")
    if _MODE == "bundled":
        current = getVariable(key)
        now = 0 if _text(current).strip() == "" else _number(current)
        if now is None:
            raise CroniumAPIError(400, 'variable "%s" is not a number, so it was not incremented' % key)
        value = _tidy(now + step)
        hexkey = _hex(key)
        _write("var.%s.json" % hexkey, _dumps(value))
        try:
            os.remove(_path("var.%s.raw" % hexkey))
        except FileNotFoundError:
            pass
        with open(_path("changes"), "a", encoding="utf-8") as f:
            f.write("incr %s %s\n" % (hexkey, _dumps(step)))
        return value
    return _ok(*_api("POST", _key_path(key) + "/increment", '{"by":%s}' % _dumps(step)))["value"]


def appendVariable(key, text, separator=""):
    """Appends text to a variable: the text alone when it is unset or empty, else current+separator+text."""
    _check_key(key)
    if not isinstance(text, str) or not isinstance(separator, str):
        raise CroniumAPIError(400, "appendVariable takes text and an optional separator")
    if _MODE == "bundled":
        current = _text(getVariable(key))
        value = text if current == "" else current + separator + text
        setVariable(key, value)
        return value
    return _ok(*_api("POST", _key_path(key) + "/append", {"value": text, "separator": separator}))["value"]


def variableExists(key):
    """True when the variable is set to something that prints as non-empty (Cronium's Bash SDK's test)."""
    return _text(getVariable(key)) != ""


_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def _coerce_condition(condition):
    """Cronium's reading of a condition: booleans; numbers (0 is false); true/1/yes/on, false/0/no/off."""
    if isinstance(condition, bool):
        return condition
    if isinstance(condition, (int, float)) and condition == condition and abs(condition) != float("inf"):
        return condition != 0
    if isinstance(condition, str):
        word = condition.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise CroniumAPIError(400, "setCondition takes true/false, 1/0, yes/no or on/off")


def setCondition(condition):
    """Sets the execution's condition: True/False, 1/0, or the words yes/no, on/off, true/false."""
    value = _coerce_condition(condition)
    if _MODE == "bundled":
        _write("condition.json", json.dumps(value))
        return None
    _ok(*_api("POST", "condition", {"condition": value}))
    return None


def getCondition():
    """The condition set so far (None when unset)."""
    if _MODE == "bundled":
        return _read("condition.json")
    return _ok(*_api("GET", "condition"))


_MAX_TOOL_ACTIONS = int(os.environ.get("CRONIUM_MAX_TOOL_ACTIONS", 100))


def executeToolAction(tool, action, config=None):
    """Asks the app to perform a tool action (Cronium's ``execute_tool_action``): ``tool`` is "slack",
    "discord" or "email", ``action`` "send_message", ``config`` the message. The app sends it with the
    credentials it stores (the script never sees them).

    API mode: sent at once; returns what the tool answered (Slack ``{"ok": True}``, Discord
    ``{"success": True, "message_id": ...}``, email ``{"messageId", "status", "recipients", ...}``) and
    raises ``CroniumAPIError`` when it was not sent. Bundled mode: queued, sent when the run is collected
    (the execution's detail says how it went); returns ``{"queued": True}``.
    """
    request = {"tool": tool, "action": action, "config": {} if config is None else config}
    if not isinstance(request["config"], dict):
        raise CroniumAPIError(400, "config must be a JSON object")
    text = _fits("tool action", _dumps(request), _MAX_VARIABLE)
    if _MODE == "bundled":
        index = _path("actions")
        try:
            with open(index, "r", encoding="utf-8") as f:
                count = sum(1 for _ in f)
        except FileNotFoundError:
            count = 0
        if count >= _MAX_TOOL_ACTIONS:
            raise CroniumAPIError(429, "an execution may ask for at most %d tool actions" % _MAX_TOOL_ACTIONS)
        action_id = "%d-%s" % (os.getpid(), os.urandom(6).hex())
        _write("action.%s.json" % action_id, text)
        with open(index, "a", encoding="utf-8") as f:
            f.write(action_id + "\n")
        return {"queued": True}
    return _ok(*_api("POST", "tool-actions", text))


def sendEmail(to, subject, body, **kwargs):
    """Sends an email through the stored SMTP server (Cronium's ``send_email``): ``to`` an address or a
    list; keyword options ``cc``, ``bcc``, ``html=True`` (the body is HTML), ``reply_to``."""
    config = {"to": to if isinstance(to, list) else [to], "subject": subject, "body": body}
    config.update(kwargs)
    return executeToolAction("email", "send_message", config)


def sendSlackMessage(channel, text, **kwargs):
    """Posts to Slack through the stored incoming webhook (Cronium's ``send_slack_message``); keyword
    options ``blocks``, ``username``, ``icon_emoji``, ``icon_url``."""
    config = {"channel": channel, "text": text}
    config.update(kwargs)
    return executeToolAction("slack", "send_message", config)


def sendDiscordMessage(channel_id, content, **kwargs):
    """Posts to Discord through the stored webhook (Cronium's ``send_discord_message``; a webhook posts to
    its own channel, so ``channel_id`` is only shown); keyword options ``embeds``, ``username``,
    ``avatar_url``."""
    config = {"channelId": channel_id, "content": content}
    config.update(kwargs)
    return executeToolAction("discord", "send_message", config)


# Cronium's Python SDK spells its helpers in snake_case; both spellings are the same functions.
get_variable = getVariable
set_variable = setVariable
delete_variable = deleteVariable
set_condition = setCondition
get_condition = getCondition
increment_variable = incrementVariable
append_variable = appendVariable
variable_exists = variableExists
execute_tool_action = executeToolAction
send_email = sendEmail
send_slack_message = sendSlackMessage
send_discord_message = sendDiscordMessage
getInput = get_input = input
setOutput = set_output = output


class Cronium:
    """Cronium's SDK class: ``Cronium()`` (and the module's ``cronium``) has every helper as a method."""

    def __getattr__(self, name):
        if name in __all__ and name not in ("Cronium", "AsyncCronium", "cronium"):
            return globals()[name]
        raise AttributeError(name)


class AsyncCronium(Cronium):
    """Cronium's async client: the same helpers as coroutines (``await client.input()``)."""

    def __getattr__(self, name):
        helper = Cronium.__getattr__(self, name)
        if not callable(helper) or isinstance(helper, type):
            return helper

        async def call(*args, **kwargs):
            return helper(*args, **kwargs)

        return call

    async def close(self):
        return None

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return None


# `from cronium import cronium` (the SDK's instance) gives the same helpers.
cronium = Cronium()
