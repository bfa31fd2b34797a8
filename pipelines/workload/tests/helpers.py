"""Shared test helpers: run a workload CLI (in this process, or as a real subprocess), train into a temp dir."""

import contextlib
import importlib
import io
import os
import subprocess
import sys
import tempfile
import types

WORKLOAD = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(script, *args):
    """Call <script>'s main(argv) in this process (fast: no interpreter start-up); returns returncode/stdout/stderr."""
    module = importlib.import_module(script[:-3] if script.endswith(".py") else script)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = module.main([str(a) for a in args])
        except SystemExit as e:  # argparse usage errors
            code = e.code if isinstance(e.code, int) else 2
    return types.SimpleNamespace(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())


def run_process(script, *args, timeout=120):
    """Run pipelines/workload/<script> as a real process with this interpreter, as the pipelines will."""
    return subprocess.run(
        [sys.executable, os.path.join(WORKLOAD, script), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=os.path.dirname(WORKLOAD),
    )


def trained_model(testcase, *extra):
    """Train into a fresh temporary directory (removed after the test class); returns (model dir, temp dir)."""
    tmp = tempfile.TemporaryDirectory(prefix="workload-")
    testcase.addClassCleanup(tmp.cleanup)
    out = os.path.join(tmp.name, "model")
    r = run("train.py", "--out", out, *extra)
    if r.returncode != 0:
        raise AssertionError(f"train.py failed ({r.returncode}): {r.stderr}")
    return out, tmp.name
