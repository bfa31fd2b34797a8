import json
import os
import unittest

import data as ds
import joblib

from tests.helpers import run, trained_model


class TrainTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.out, cls.tmp = trained_model(cls, "--seed", "42")

    def test_writes_model_params_and_reference(self):
        for f in ("model.joblib", "params.json", "reference.csv", "reference_stats.json", "holdout.csv"):
            self.assertTrue(os.path.isfile(os.path.join(self.out, f)), f)
        with open(os.path.join(self.out, "params.json")) as f:
            params = json.load(f)
        self.assertEqual(params["model"], "logreg")
        self.assertEqual(params["seed"], 42)
        self.assertEqual(params["classes"], [0, 1, 2])
        self.assertEqual(params["features"], ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"])
        self.assertEqual((params["n_train"], params["n_holdout"]), (112, 38))
        with open(os.path.join(self.out, "reference_stats.json")) as f:
            stats = json.load(f)
        self.assertEqual(sorted(stats), sorted(params["features"]))
        self.assertEqual(stats["petal_length_cm"]["count"], 112)

    def test_reaches_known_accuracy_on_holdout(self):
        model = joblib.load(os.path.join(self.out, "model.joblib"))
        X, y, _ = ds.read_csv(os.path.join(self.out, "holdout.csv"))
        self.assertGreaterEqual(float((model.predict(X) == y).mean()), 0.9)

    def test_deterministic_with_seed(self):
        again, _ = trained_model(self, "--seed", "42")
        for f in ("reference.csv", "holdout.csv"):
            with open(os.path.join(self.out, f)) as a, open(os.path.join(again, f)) as b:
                self.assertEqual(a.read(), b.read(), f)
        X, _, _ = ds.read_csv(os.path.join(self.out, "holdout.csv"))
        m1 = joblib.load(os.path.join(self.out, "model.joblib"))
        m2 = joblib.load(os.path.join(again, "model.joblib"))
        self.assertEqual(m1.predict_proba(X).tolist(), m2.predict_proba(X).tolist())

    def test_trains_from_csv_and_records_its_hash(self):
        csv = os.path.join(self.tmp, "wine.csv")
        self.assertEqual(run("data.py", "--dataset", "wine", "--out", csv).returncode, 0)
        out = os.path.join(self.tmp, "wine-rf")
        r = run("train.py", "--out", out, "--data", csv, "--model", "rf", "--n-estimators", "50")
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(out, "params.json")) as f:
            params = json.load(f)
        self.assertEqual(params["data"]["kind"], "csv")
        self.assertEqual(params["data"]["sha256"], ds.file_sha256(csv))
        self.assertEqual(len(params["features"]), 13)
        r = run("evaluate.py", "--model-dir", out, "--threshold", "0.85")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_rejects_bad_csv(self):
        bad = os.path.join(self.tmp, "bad.csv")
        with open(bad, "w") as f:
            f.write("a,b\n1,2\n")
        r = run("train.py", "--out", os.path.join(self.tmp, "x"), "--data", bad)
        self.assertEqual(r.returncode, 2)
        self.assertIn("no 'target' column", r.stderr)


if __name__ == "__main__":
    unittest.main()
