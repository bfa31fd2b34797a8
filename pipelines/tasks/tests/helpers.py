"""Imports a step script by path (the scripts live in per-task folders, not a package)."""

import importlib.util
import os
import sys

TASKS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIB = os.path.join(os.path.dirname(TASKS), "lib")
if LIB not in sys.path:
    sys.path.insert(0, LIB)


def load(task, file):
    path = os.path.join(TASKS, task, file)
    spec = importlib.util.spec_from_file_location(f"{task.replace('-', '_')}_{file[:-3]}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
