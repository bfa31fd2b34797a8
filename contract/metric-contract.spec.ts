import { strict as assert } from "node:assert";
import { METRICS, NAMESPACE_LABELS, contractSeriesNames, kubeStateLabel } from "./metric-contract";

describe("the metric contract (contract/metric-contract.ts)", () => {
    describe("kubeStateLabel: the label name kube-state-metrics gives a namespace label key", () => {
        it("prefixes label_ and turns every '-', '/' and '.' into '_', as kube_namespace_labels exports them", () => {
            assert.equal(kubeStateLabel(NAMESPACE_LABELS.model), "label_mlops_testbed_model");
            assert.equal(kubeStateLabel(NAMESPACE_LABELS.version), "label_mlops_testbed_version");
            assert.equal(kubeStateLabel("app.kubernetes.io/name"), "label_app_kubernetes_io_name");
        });

        it("keeps letters of either case, digits and underscores as they are", () => {
            assert.equal(kubeStateLabel("Tier_2"), "label_Tier_2");
            assert.equal(kubeStateLabel("aZ09_"), "label_aZ09_");
        });

        it("replaces each other character by one '_' (no collapsing), so '--' stays two", () => {
            assert.equal(kubeStateLabel("a--b"), "label_a__b");
            assert.equal(kubeStateLabel("ü"), "label__");
        });
    });

    describe("contractSeriesNames: the series Prometheus holds for the contract", () => {
        it("expands the histogram to _bucket, _sum and _count and never lists its base name", () => {
            const names = contractSeriesNames();
            const base = METRICS.requestDuration.name;
            for (const suffix of ["_bucket", "_sum", "_count"]) assert.ok(names.includes(`${base}${suffix}`), suffix);
            assert.ok(!names.includes(base), `${base} is not a series`);
        });

        it("lists counters and gauges by their own name, once each", () => {
            const names = contractSeriesNames();
            assert.equal(names.filter((n) => n === METRICS.requests.name).length, 1);
            assert.equal(names.filter((n) => n === METRICS.predictionAccuracy.name).length, 1);
            const histograms = Object.values(METRICS).filter((m) => m.type === "histogram").length;
            assert.equal(names.length, Object.keys(METRICS).length + 2 * histograms);
            assert.equal(new Set(names).size, names.length);
        });
    });
});
