"""Starts a Python job: makes ``cronium`` a builtin, then runs the script as __main__."""
import builtins
import runpy
import sys

import cronium

builtins.cronium = cronium
script = sys.argv[1]
sys.argv = sys.argv[1:]
sys.path[0] = __import__("os").path.dirname(script)
runpy.run_path(script, run_name="__main__")
