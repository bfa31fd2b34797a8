import json
import os
import unittest

import data as ds
import numpy as np
from drift import ks_report

from tests.helpers import run, trained_model


class DriftTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.out, cls.tmp = trained_model(cls)
        X, y, cls.features = ds.read_csv(os.path.join(cls.out, "holdout.csv"))
        cls.same = os.path.join(cls.tmp, "same.csv")
        ds.write_csv(cls.same, X, y, cls.features)
        shifted = X.copy()
        shifted[:, cls.features.index("petal_length_cm")] += 3.0
        cls.shifted = os.path.join(cls.tmp, "shifted.csv")
        ds.write_csv(cls.shifted, shifted, None, cls.features)  # unlabelled new data is fine

    def test_detects_shifted_feature_only(self):
        report_file = os.path.join(self.tmp, "report.json")
        r = run("drift.py", "--reference", self.out, "--data", self.shifted, "--out", report_file)
        self.assertEqual(r.returncode, 0, r.stderr)  # no --fail-on-drift: report only
        with open(report_file) as f:
            report = json.load(f)
        self.assertTrue(report["drifted"])
        self.assertEqual(report["drifted_features"], ["petal_length_cm"])
        self.assertLess(report["features"]["petal_length_cm"]["p_value"], 0.001)
        self.assertGreater(report["features"]["petal_length_cm"]["statistic"], 0.5)
        for f in ("sepal_length_cm", "sepal_width_cm", "petal_width_cm"):
            self.assertFalse(report["features"][f]["drifted"], f)
            self.assertGreater(report["features"][f]["p_value"], 0.05, f)
        self.assertEqual((report["n_reference"], report["n_current"]), (112, 38))

    def test_fail_on_drift_exit_codes(self):
        r = run(
            "drift.py",
            "--reference",
            os.path.join(self.out, "reference.csv"),
            "--data",
            self.shifted,
            "--fail-on-drift",
        )
        self.assertEqual(r.returncode, 1)
        self.assertIn("drift detected in petal_length_cm", r.stderr)
        r = run("drift.py", "--reference", self.out, "--data", self.same, "--fail-on-drift")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertFalse(json.loads(r.stdout)["drifted"])

    def test_missing_feature_is_an_error(self):
        X, _, _ = ds.read_csv(self.same)
        partial = os.path.join(self.tmp, "partial.csv")
        ds.write_csv(partial, X[:, :3], None, self.features[:3])
        r = run("drift.py", "--reference", self.out, "--data", partial)
        self.assertEqual(r.returncode, 2)
        self.assertIn("lacks reference features", r.stderr)

    def test_pure_function_and_bonferroni(self):
        rng = np.random.default_rng(0)
        ref = rng.normal(size=(300, 2))
        new = np.column_stack([rng.normal(size=200), rng.normal(loc=1.0, size=200)])
        rep = ks_report(ref, ["a", "b"], new, ["b", "a"], alpha=0.05)  # column order does not matter
        self.assertEqual(rep["drifted_features"], ["a"])
        self.assertEqual(ks_report(ref, ["a", "b"], new, ["a", "b"], 0.05, bonferroni=True)["level"], 0.025)


if __name__ == "__main__":
    unittest.main()
