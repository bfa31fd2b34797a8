"""The scripts that only read a model directory take its file names from model_files.py, not from train.py: drift.py
starts without scikit-learn, and evaluate.py and server.py without the estimators their model does not use."""

import ast
import functools
import os
import unittest

from tests.helpers import WORKLOAD


@functools.cache
def module_level_imports(script):
    """The modules a workload script imports at module level (not inside functions or classes)."""
    with open(os.path.join(WORKLOAD, script)) as f:
        todo = list(ast.parse(f.read(), script).body)
    names = set()
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            todo.extend(ast.iter_child_nodes(node))
    return frozenset(names)


def start_up_imports(script):
    """Every module a workload script imports as it starts, following the workload's own modules."""
    seen, todo = set(), [script]
    while todo:
        for name in module_level_imports(todo.pop()) - seen:
            seen.add(name)
            if os.path.isfile(os.path.join(WORKLOAD, name + ".py")):
                todo.append(name + ".py")
    return seen


class StartUpImportsTest(unittest.TestCase):
    def test_readers_of_a_model_directory_do_not_import_train(self):
        for script in ("evaluate.py", "drift.py", "server.py"):
            imported = start_up_imports(script)
            self.assertIn("model_files", imported, script)
            self.assertNotIn("train", imported, script)
        self.assertEqual({m for m in start_up_imports("drift.py") if m.split(".")[0] == "sklearn"}, set())

    def test_train_imports_the_estimators_of_the_model_it_builds_only(self):
        imported = start_up_imports("train.py")
        self.assertIn("sklearn.model_selection", imported)
        self.assertNotIn("sklearn.ensemble", imported)
        self.assertNotIn("sklearn.linear_model", imported)

    def test_the_helper_finds_module_level_imports_not_those_in_functions(self):
        # What the tests above rely on: data.py imports numpy as it starts, scikit-learn only in load_builtin.
        imported = start_up_imports("data.py")
        self.assertIn("numpy", imported)
        self.assertNotIn("sklearn", imported)
        self.assertIn("sklearn", start_up_imports("train.py"))


if __name__ == "__main__":
    unittest.main()
