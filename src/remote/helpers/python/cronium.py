"""Cronium runtime helpers for Python (standard library only).

Available as the builtin ``cronium`` (no import needed) and as ``import cronium``. In API mode calls go to
the app over the reverse tunnel (one kept-alive HTTP connection); in bundled mode they use files in the
work directory that the app collects when the script ends. Values keep their JSON types.
"""
import http.client
import json
import os
import urllib.parse

__all__ = ["input", "output", "event", "getVariable", "setVariable", "deleteVariable",
           "setCondition", "getCondition", "CroniumError"]


class CroniumError(RuntimeError):
    """A helper call failed (the app said no, or could not be reached)."""


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
        data = json.dumps(body).encode("utf-8")
        headers["Content-Type"] = "application/json"
    for attempt in (1, 2):
        if _conn is None:
            _conn = http.client.HTTPConnection(endpoint.hostname, endpoint.port, timeout=30)
        try:
            _conn.request(method, "/executions/%s/%s" % (_EXEC, path), body=data, headers=headers)
            response = _conn.getresponse()
            payload = response.read()
            break
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
        raise CroniumError(parsed.get("message") or parsed.get("error") or "HTTP %d" % status)
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
    """The run's input."""
    if _MODE == "bundled":
        return _read("input.json")
    return _ok(*_api("GET", "input"))


def output(data):
    """Sets the execution's output (any JSON value)."""
    text = json.dumps(data)
    if _MODE == "bundled":
        _write("output.json", text)
        return None
    _ok(*_api("POST", "output", {"data": data}))
    return None


def event():
    """The execution's context: ids, job, server, run, trigger, start time, attempt."""
    if _MODE == "bundled":
        return _read("context.json")
    return _ok(*_api("GET", "context"))


def getVariable(key):
    """A shared variable's value, or None when it is not set."""
    if _MODE == "bundled":
        hexkey = _hex(key)
        if os.path.exists(_path("var.%s.json" % hexkey)):
            return _read("var.%s.json" % hexkey)
        raw = _path("var.%s.raw" % hexkey)
        if os.path.exists(raw):
            with open(raw, "r", encoding="utf-8") as f:
                return f.read().rstrip("\n")
        return None
    status, parsed = _api("GET", _key_path(key))
    if status == 404:
        return None
    return _ok(status, parsed)["value"]


def setVariable(key, value):
    """Sets a shared variable (any JSON value)."""
    text = json.dumps(value)
    if _MODE == "bundled":
        hexkey = _hex(key)
        _write("var.%s.json" % hexkey, text)
        try:
            os.remove(_path("var.%s.raw" % hexkey))
        except FileNotFoundError:
            pass
        _journal("set", hexkey)
        return None
    _ok(*_api("PUT", _key_path(key), {"value": value}))
    return None


def deleteVariable(key):
    """Removes a shared variable."""
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


def setCondition(condition):
    """Sets the execution's condition (True or False)."""
    if not isinstance(condition, bool):
        raise CroniumError("setCondition takes True or False")
    if _MODE == "bundled":
        _write("condition.json", json.dumps(condition))
        return None
    _ok(*_api("POST", "condition", {"condition": condition}))
    return None


def getCondition():
    """The condition set so far (None when unset)."""
    if _MODE == "bundled":
        return _read("condition.json")
    return _ok(*_api("GET", "condition"))
