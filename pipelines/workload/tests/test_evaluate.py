import json
import os
import unittest

import data as ds
import numpy as np
from evaluate import gate

from tests.helpers import run, trained_model


class GateFunctionTest(unittest.TestCase):
    def test_passes_and_fails(self):
        self.assertEqual(gate(0.95, threshold=0.9), [])
        self.assertEqual(len(gate(0.85, threshold=0.9)), 1)
        self.assertEqual(gate(0.93, 0.9, baseline_accuracy=0.95, tolerance=0.02), [])
        self.assertIn("worse than the baseline", gate(0.92, 0.9, baseline_accuracy=0.95, tolerance=0.02)[0])
        self.assertEqual(len(gate(0.5, 0.9, baseline_accuracy=0.95, tolerance=0.02)), 2)


class EvaluateCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.out, cls.tmp = trained_model(cls)

    def metrics(self, path=None):
        with open(path or os.path.join(self.out, "metrics.json")) as f:
            return json.load(f)

    def test_passes_threshold_and_writes_metrics(self):
        r = run("evaluate.py", "--model-dir", self.out, "--threshold", "0.9")
        self.assertEqual(r.returncode, 0, r.stderr)
        m = self.metrics()
        self.assertGreaterEqual(m["accuracy"], 0.9)
        self.assertGreater(m["f1_macro"], 0.85)
        self.assertEqual(m["n"], 38)
        self.assertTrue(m["gate"]["passed"])

    def test_fails_threshold_on_bad_data(self):
        X, y, features = ds.read_csv(os.path.join(self.out, "holdout.csv"))
        noisy = os.path.join(self.tmp, "mislabelled.csv")
        ds.write_csv(noisy, X, (y + 1) % 3, features)  # every label wrong
        out = os.path.join(self.tmp, "bad-metrics.json")
        r = run("evaluate.py", "--model-dir", self.out, "--data", noisy, "--out", out, "--threshold", "0.9")
        self.assertEqual(r.returncode, 1)
        self.assertIn("gate failed: accuracy", r.stderr)
        self.assertIn("below the threshold 0.9000", r.stderr)
        m = self.metrics(out)
        self.assertFalse(m["gate"]["passed"])
        self.assertLess(m["accuracy"], 0.2)

    def test_baseline_tolerance(self):
        run("evaluate.py", "--model-dir", self.out)
        acc = self.metrics()["accuracy"]
        baseline = os.path.join(self.tmp, "baseline.json")
        with open(baseline, "w") as f:
            json.dump({"accuracy": min(1.0, acc + 0.05)}, f)
        out = os.path.join(self.tmp, "m.json")
        worse = run(
            "evaluate.py", "--model-dir", self.out, "--out", out, "--baseline-metrics", baseline, "--tolerance", "0.01"
        )
        self.assertEqual(worse.returncode, 1, worse.stderr)
        self.assertIn("worse than the baseline", worse.stderr)
        ok = run(
            "evaluate.py", "--model-dir", self.out, "--out", out, "--baseline-metrics", baseline, "--tolerance", "0.1"
        )
        self.assertEqual(ok.returncode, 0, ok.stderr)
        self.assertEqual(self.metrics(out)["gate"]["baseline_accuracy"], min(1.0, acc + 0.05))

    def test_bad_inputs_exit_2(self):
        r = run("evaluate.py", "--model-dir", self.out, "--baseline-metrics", os.path.join(self.tmp, "none.json"))
        self.assertEqual(r.returncode, 2)
        r = run("evaluate.py", "--model-dir", self.out, "--threshold", "1.5")
        self.assertEqual(r.returncode, 2)
        X, y, _ = ds.read_csv(os.path.join(self.out, "holdout.csv"))
        other = os.path.join(self.tmp, "other-features.csv")
        ds.write_csv(other, X, y, ["a", "b", "c", "d"])
        r = run("evaluate.py", "--model-dir", self.out, "--data", other)
        self.assertEqual(r.returncode, 2)
        self.assertIn("differ from the model's", r.stderr)
        self.assertTrue(np.isfinite(X).all())


if __name__ == "__main__":
    unittest.main()
