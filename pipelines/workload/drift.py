"""Per-feature two-sample Kolmogorov-Smirnov drift test of new data against the reference sample.

    python3 drift.py --reference DIR/reference.csv --data new.csv [--alpha 0.05] [--out report.json]
                     [--fail-on-drift]

--reference may also be a model directory (its reference.csv is used). A feature drifts when the KS p-value is
below --alpha (Bonferroni-corrected over the features with --bonferroni). The JSON report lists statistic, p-value
and the drifted flag per feature. Exit 1 on drift with --fail-on-drift, 2 on bad input, otherwise 0.
"""

import argparse
import json
import os
import sys

import data as ds
from model_files import REFERENCE_FILE
from scipy.stats import ks_2samp


def ks_report(ref_X, ref_features, new_X, new_features, alpha=0.05, bonferroni=False):
    """The drift report as a dict; a pure function of its inputs."""
    missing = [f for f in ref_features if f not in new_features]
    if missing:
        raise ValueError(f"the new data lacks reference features {missing}")
    level = alpha / len(ref_features) if bonferroni else alpha
    features = {}
    for j, name in enumerate(ref_features):
        res = ks_2samp(ref_X[:, j], new_X[:, new_features.index(name)])
        features[name] = {
            "statistic": float(res.statistic),
            "p_value": float(res.pvalue),
            "drifted": bool(res.pvalue < level),
        }
    drifted = [n for n, r in features.items() if r["drifted"]]
    return {
        "test": "ks_2samp",
        "alpha": alpha,
        "bonferroni": bonferroni,
        "level": level,
        "n_reference": int(len(ref_X)),
        "n_current": int(len(new_X)),
        "drifted": bool(drifted),
        "drifted_features": drifted,
        "features": features,
    }


def main(argv=None):
    p = argparse.ArgumentParser(description="Kolmogorov-Smirnov drift test against the reference sample.")
    p.add_argument("--reference", required=True, help=f"reference CSV, or a model directory with {REFERENCE_FILE}")
    p.add_argument("--data", required=True, help="new data CSV (a 'target' column is ignored)")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level per feature")
    p.add_argument("--bonferroni", action="store_true", help="divide --alpha by the number of features")
    p.add_argument("--out", help="write the JSON report here (it is always printed)")
    p.add_argument("--fail-on-drift", action="store_true", help="exit 1 when any feature drifted")
    a = p.parse_args(argv)
    if not 0 < a.alpha < 1:
        p.error("--alpha must be between 0 and 1")
    ref = os.path.join(a.reference, REFERENCE_FILE) if os.path.isdir(a.reference) else a.reference
    try:
        ref_X, _, ref_features = ds.read_csv(ref, require_target=False)
        new_X, _, new_features = ds.read_csv(a.data, require_target=False)
        report = ks_report(ref_X, ref_features, new_X, new_features, a.alpha, a.bonferroni)
    except (OSError, ValueError) as e:
        print(f"drift: error: {e}", file=sys.stderr)
        return 2
    report["reference"] = os.path.abspath(ref)
    report["data"] = os.path.abspath(a.data)
    text = json.dumps(report, indent=2, sort_keys=True)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")
    print(text)
    if report["drifted"]:
        print(f"drift: drift detected in {', '.join(report['drifted_features'])}", file=sys.stderr)
        if a.fail_on_drift:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
