"""Loads a step script by path: Tekton runs each as a script of its own (its Task folder's name has dashes, so it is
no package). The step library, mlops_steps, is on PYTHONPATH as in the step pods (the spec sets pipelines/lib)."""

import importlib.util
import os
from types import ModuleType

TASKS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: The step library's root (pipelines/lib), which holds the package mlops_steps.
LIB = os.path.join(os.path.dirname(TASKS), "lib")


def load(task: str, file: str) -> ModuleType:
    path = os.path.join(TASKS, task, file)
    spec = importlib.util.spec_from_file_location(f"{task.replace('-', '_')}_{file[:-3]}", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
