"""The scripts run as real processes from another directory, as a pipeline step runs them."""

import json
import os
import tempfile
import unittest

from tests.helpers import run_process


class CliProcessTest(unittest.TestCase):
    def test_train_evaluate_drift_as_processes(self):
        with tempfile.TemporaryDirectory(prefix="workload-cli-") as tmp:
            out = os.path.join(tmp, "m")
            r = run_process("train.py", "--out", out, "--seed", "7")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(json.loads(r.stdout)["n_train"], 112)
            r = run_process("evaluate.py", "--model-dir", out, "--threshold", "0.99999")
            self.assertIn(r.returncode, (0, 1), r.stderr)  # exit code mirrors the gate
            with open(os.path.join(out, "metrics.json")) as f:
                self.assertEqual(json.load(f)["gate"]["passed"], r.returncode == 0)
            shifted = os.path.join(tmp, "s.csv")
            r = run_process("data.py", "--out", shifted, "--shift", "sepal_width_cm=2", "--sample", "60")
            self.assertEqual(r.returncode, 0, r.stderr)
            r = run_process("drift.py", "--reference", out, "--data", shifted, "--fail-on-drift")
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("sepal_width_cm", json.loads(r.stdout)["drifted_features"])


if __name__ == "__main__":
    unittest.main()
