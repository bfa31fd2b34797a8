import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { CHARTS, EXPORTERS, chartFactsName } from "../contract/versions";
import { chartsWithFacts } from "../tools/facts";
import { chartFacts, commentedKeys, keyTree } from "../tools/facts/charts";
import { dcgmFacts, labelsInMarkdown, tektonFacts } from "../tools/facts/exporters";
import { FACTS_DIR, chartFactsOf, metricFactsOf, unknownValueKeys } from "./upstream-facts";

describe("upstream facts (test/facts, written by npm run facts)", () => {
    it("has a values facts file for every pinned chart and subchart, at the pinned version", () => {
        for (const c of chartsWithFacts()) {
            const f = chartFactsOf(c);
            assert.equal(f.version, c.version, `${chartFactsName(c)}: version`);
            assert.ok(Object.keys(f.keys).length > 3, `${chartFactsName(c)}: has value keys`);
        }
        // The one chart whose values are not key-checked, said so in contract/versions.ts.
        const unchecked = Object.entries(CHARTS)
            .filter(([, c]) => "valuesFacts" in c && c.valuesFacts === false)
            .map(([k]) => k);
        assert.deepEqual(unchecked, ["envoyGateway"]);
    });

    it("has a series facts file for every pinned exporter version", () => {
        for (const key of Object.keys(EXPORTERS) as (keyof typeof EXPORTERS)[]) {
            const f = metricFactsOf(key);
            assert.equal(f.version, EXPORTERS[key].version);
            assert.ok(Object.keys(f.series).length > 0);
        }
        assert.equal(EXPORTERS.dcgmExporter.version, CHARTS.dcgmExporter.version);
    });

    it("holds no facts of versions that are no longer pinned", () => {
        const wanted = new Set([
            ...chartsWithFacts().map((c) => path.join("charts", `${chartFactsName(c)}.json`)),
            ...Object.values(EXPORTERS).map((e) => path.join("metrics", `${e.exporter}-${e.version}.json`)),
        ]);
        const present = ["charts", "metrics"].flatMap((d) =>
            fs.readdirSync(path.join(FACTS_DIR, d)).map((f) => path.join(d, f)),
        );
        assert.deepEqual(present.sort(), [...wanted].sort());
    });

    it("Tekton's run counter carries only status; the duration histogram carries pipeline at our level", () => {
        const s = metricFactsOf("tektonPipelines").series;
        assert.deepEqual(s.tekton_pipelines_controller_pipelinerun_total, ["otel_scope_name", "status"]);
        assert.deepEqual(s.tekton_pipelines_controller_pipelinerun_duration_seconds_count, [
            "namespace",
            "otel_scope_name",
            "pipeline",
            "status",
        ]);
    });
});

describe("npm run facts: derivation", () => {
    const values = `
a:
  b: 1
  open: {}
  list: []
  nothing:
  # commented:
  #   deep: 1
  # other: x
  free:
    k: v
# top:
#   - x
  # should have a secret key called my_key with a config
c: x
`;

    it("marks empty maps, nulls, lists and declared paths open, and finds commented-out keys", () => {
        const tree = keyTree({ a: { b: 1, open: {}, list: [], nothing: null, free: { k: "v" } }, c: "x" }, ["a.free"]);
        assert.deepEqual(tree, {
            a: { b: "scalar", free: "open", list: "open", nothing: "open", open: "open" },
            c: "scalar",
        });
        assert.deepEqual(commentedKeys(values, tree), ["a.commented", "a.other", "top"]);
        const facts = chartFacts("x", "1.0.0", values, { derivedFrom: "inline", defaults: ["a.b"] });
        assert.deepEqual(facts.documentedSecretKeys, { a: ["my_key"] });
        assert.deepEqual(facts.defaults, { "a.b": 1 });
    });

    it("checks values against the key trees, open keys left open", () => {
        const tree = keyTree({ a: { b: 1, open: {} }, s: "x" });
        assert.deepEqual(unknownValueKeys({ a: { b: 2, open: { anything: 1 }, typo: 1 }, s: { x: 1 }, z: 1 }, [tree]), [
            "a.typo",
            "s (a map here, but the chart has a scalar)",
            "z",
        ]);
    });

    it("reads dcgm-exporter's counters CSV: label fields become labels, not series", () => {
        const f = dcgmFacts("# c\nDCGM_A, gauge, a\nDCGM_FI_DRIVER_VERSION, label, v\n# DCGM_B, gauge, b\n", "1", "x");
        assert.deepEqual(Object.keys(f.series), ["DCGM_A"]);
        assert.ok(f.series.DCGM_A.includes("DCGM_FI_DRIVER_VERSION") && f.series.DCGM_A.includes("namespace"));
    });

    it("refuses a Tekton series it has no label table for", () => {
        assert.throws(() => tektonFacts(["tekton_new_metric"], "v1", "x"), /without a label table: tekton_new_metric/);
    });

    it("reads the labels column of upstream metric docs", () => {
        const doc = [
            "| kube_x | Gauge | help | `cpu`=&lt;core&gt; | `node`=&lt;n&gt; <br> `resource`=&lt;r&gt; | STABLE |",
            "| `tekton_y_[bucket, sum, count]` | Histogram | `*pipeline`=&lt;p&gt; <br> `status`=&lt;s&gt; | experimental |",
        ].join("\n");
        assert.deepEqual(Object.fromEntries(labelsInMarkdown(doc)), {
            kube_x: ["node", "resource"],
            tekton_y: ["pipeline", "status"],
        });
    });
});
