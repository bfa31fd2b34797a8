import * as assert from "node:assert/strict";
import { modelSchema, quotaDefaultsSchema, trafficWeights, validateModels } from "../contract/config/models";
import { issueAt, planConfigIssues } from "./harness";

/** Plans dev with the given models and returns the issues (planConfigIssues asserts nothing was registered). */
const issuesFor = (models: unknown[], extra: Record<string, unknown> = {}) =>
    planConfigIssues("dev", { models, ...extra });

const v = (...names: string[]) => names.map((name) => ({ name }));

describe("models config: bad names and weights are refused before anything is registered", () => {
    it("refuses names that are not DNS-1123 labels", async () => {
        const issues = await issuesFor([{ name: "Iris_1", versions: [{ name: "V1.0" }] }]);
        issueAt(issues, "mlops-testbed:models[0].name", /DNS-1123 label/);
        issueAt(issues, "mlops-testbed:models[0].versions[0].name", /DNS-1123 label/);
    });

    it("reports every problem at once, also cross-field rules of entries whose other fields fail", async () => {
        const issues = await issuesFor(
            [
                // A bad model name and bad weights: both, not only the name.
                {
                    name: "Iris_1",
                    versions: v("v1", "v2"),
                    traffic: { strategy: "canary", weights: { v1: 90, v2: 20, v3: 0 } },
                },
                // A version whose replicas fail the schema, a duplicate version, and a shadow naming no version.
                {
                    name: "fraud",
                    versions: [{ name: "v1", replicas: "many" }, { name: "v1" }],
                    traffic: { strategy: "shadow", shadowOf: "v9" },
                },
                // Traffic that fails the schema: its own problem only, the strategy rules are not guessed at.
                { name: "churn", versions: v("v1", "v2"), traffic: { strategy: "sideways", weights: { v1: 100 } } },
            ],
            { monitoring: { retention: "forever" }, pipelines: { trainingGpus: 1 }, gpuNodePools: [] },
        );
        const expected: [string, RegExp][] = [
            ["mlops-testbed:models[0].name", /DNS-1123 label/],
            ["mlops-testbed:models[0].traffic.weights", /must sum to 100 \(they sum to 110\)/],
            ["mlops-testbed:models[0].traffic.weights.v3", /names no version of model "Iris_1"/],
            ["mlops-testbed:models[1].versions[0].replicas", /whole number/],
            ["mlops-testbed:models[1].versions[1].name", /duplicate version name/],
            ["mlops-testbed:models[1].traffic.shadowOf", /names no version of model "fraud"/],
            ["mlops-testbed:models[2].traffic.strategy", /must be one of single, canary, blue-green, shadow/],
            ["mlops-testbed:monitoring.retention", /./],
            ["mlops-testbed:pipelines.trainingGpus", /needs a GPU node pool/],
        ];
        for (const [key, message] of expected) issueAt(issues, key, message);
        assert.equal(issues.length, expected.length, issues.map((i) => `${i.key}: ${i.message}`).join("\n"));
    });

    it("refuses names longer than 30 characters", async () => {
        const issues = await issuesFor([{ name: "a".repeat(31), versions: v("v1") }]);
        issueAt(issues, "mlops-testbed:models[0].name", /at most 30 characters/);
    });

    it("refuses a model with no versions, or more than a route can hold", async () => {
        const issues = await issuesFor([
            { name: "empty", versions: [] },
            {
                name: "many",
                versions: v(...Array.from({ length: 17 }, (_, i) => `v${i}`)),
                traffic: { strategy: "canary", weights: { v0: 100 } },
            },
        ]);
        issueAt(issues, "mlops-testbed:models[0].versions", /at least one version/);
        issueAt(issues, "mlops-testbed:models[1].versions", /at most 16 versions/);
    });

    it("refuses duplicate models and versions, and namespaces that collide or are reserved", async () => {
        const issues = await issuesFor([
            { name: "iris", versions: v("v1", "v1"), traffic: { strategy: "canary", weights: { v1: 100 } } },
            { name: "iris", versions: v("v2") },
            { name: "a-b", versions: v("c") },
            { name: "a", versions: v("b-c") },
            { name: "kube", versions: v("system") },
        ]);
        issueAt(issues, "mlops-testbed:models[0].versions[1].name", /duplicate version name/);
        issueAt(issues, "mlops-testbed:models[1].name", /duplicate model name/);
        issueAt(
            issues,
            "mlops-testbed:models[3].versions[0].name",
            /namespace "a-b-c" collides with model\/version a-b\/c/,
        );
        issueAt(issues, "mlops-testbed:models[4].versions[0].name", /namespace "kube-system" is reserved/);
    });

    it("refuses weights that do not sum to 100 or name unknown versions", async () => {
        const issues = await issuesFor([
            { name: "iris", versions: v("v1", "v2"), traffic: { strategy: "canary", weights: { v1: 90, v3: 20 } } },
        ]);
        issueAt(issues, "mlops-testbed:models[0].traffic.weights", /must sum to 100 \(they sum to 110\)/);
        issueAt(
            issues,
            "mlops-testbed:models[0].traffic.weights.v3",
            /names no version of model "iris"; its versions: v1, v2/,
        );
    });

    it("refuses weights out of range and unknown strategies", async () => {
        const issues = await issuesFor([
            { name: "iris", versions: v("v1", "v2"), traffic: { strategy: "canary", weights: { v1: 150, v2: -50 } } },
            { name: "digits", versions: v("v1"), traffic: { strategy: "a-b-test" } },
        ]);
        issueAt(issues, "mlops-testbed:models[0].traffic.weights.v1", /whole number from 0 to 100/);
        issueAt(
            issues,
            "mlops-testbed:models[1].traffic.strategy",
            /must be one of single, canary, blue-green, shadow/,
        );
    });

    it("requires weights for canary and blue-green, with at least two versions", async () => {
        const issues = await issuesFor([
            { name: "iris", versions: v("v1", "v2"), traffic: { strategy: "canary" } },
            { name: "digits", versions: v("v1"), traffic: { strategy: "blue-green", weights: { v1: 100 } } },
        ]);
        issueAt(issues, "mlops-testbed:models[0].traffic.weights", /is required for strategy canary/);
        issueAt(issues, "mlops-testbed:models[1].versions", /strategy blue-green needs at least two versions/);
    });

    it("refuses a split under blue-green and under single", async () => {
        const issues = await issuesFor([
            { name: "iris", versions: v("v1", "v2"), traffic: { strategy: "blue-green", weights: { v1: 50, v2: 50 } } },
            { name: "digits", versions: v("v1", "v2"), traffic: { strategy: "single", weights: { v1: 60, v2: 40 } } },
            { name: "churn", versions: v("v1", "v2"), traffic: { strategy: "single" } },
        ]);
        issueAt(issues, "mlops-testbed:models[0].traffic.weights", /blue-green sends all traffic to one version/);
        issueAt(issues, "mlops-testbed:models[1].traffic.weights", /single sends all traffic to one version/);
        issueAt(
            issues,
            "mlops-testbed:models[2].traffic.weights",
            /must name the serving one: weights: \{ <version>: 100 \}/,
        );
    });

    it("requires an existing shadowOf for shadow, and refuses it elsewhere", async () => {
        const issues = await issuesFor([
            { name: "iris", versions: v("v1", "v2"), traffic: { strategy: "shadow" } },
            { name: "digits", versions: v("v1", "v2"), traffic: { strategy: "shadow", shadowOf: "v9" } },
            { name: "churn", versions: v("v1"), traffic: { strategy: "shadow", shadowOf: "v1" } },
            {
                name: "fraud",
                versions: v("v1", "v2"),
                traffic: { strategy: "canary", weights: { v1: 50, v2: 50 }, shadowOf: "v1" },
            },
            {
                name: "spam",
                versions: v("v1", "v2"),
                traffic: { strategy: "shadow", shadowOf: "v1", weights: { v1: 100 } },
            },
        ]);
        issueAt(issues, "mlops-testbed:models[0].traffic.shadowOf", /is required for strategy shadow/);
        issueAt(issues, "mlops-testbed:models[1].traffic.shadowOf", /names no version of model "digits"/);
        issueAt(issues, "mlops-testbed:models[2].versions", /shadow needs at least two versions/);
        issueAt(issues, "mlops-testbed:models[3].traffic.shadowOf", /only applies to strategy shadow/);
        issueAt(issues, "mlops-testbed:models[4].traffic.weights", /does not apply to strategy shadow/);
    });

    it("refuses replicas × GPUs beyond the namespace quota", async () => {
        const issues = await issuesFor([
            {
                name: "iris",
                versions: [
                    { name: "v1", replicas: 3, gpu: 1 },
                    { name: "v2", replicas: 12 },
                ],
                traffic: { strategy: "canary", weights: { v1: 50, v2: 50 } },
            },
        ]);
        issueAt(
            issues,
            "mlops-testbed:models[0].versions[0].gpu",
            /3 replicas × 1 GPU exceed the namespace GPU quota of 1; raise versions\[0\]\.quota\.gpu/,
        );
        issueAt(
            issues,
            "mlops-testbed:models[0].versions[1].replicas",
            /12 replicas × 1 pod exceed the namespace pod quota of 10/,
        );
    });

    it("refuses unknown keys with the allowed ones named", async () => {
        const issues = await issuesFor([{ name: "iris", versions: [{ name: "v1", gpus: 1 }], trafic: {} }]);
        issueAt(
            issues,
            "mlops-testbed:models[0].versions[0].gpus",
            /unknown key; allowed keys here: name, replicas, gpu, quota/,
        );
        issueAt(issues, "mlops-testbed:models[0].trafic", /unknown key; allowed keys here: name, versions, traffic/);
    });

    it("limits namespace names to 63 characters (checked on names the schema would pass)", () => {
        const model = modelSchema.parse({ name: "m".repeat(30), versions: [{ name: "v".repeat(30) }] });
        assert.deepEqual(validateModels([model], quotaDefaultsSchema.parse({})), []);
        const long = { ...model, versions: [{ ...model.versions[0], name: "v".repeat(33) }] };
        const issues = validateModels([long], quotaDefaultsSchema.parse({}));
        issueAt(issues, "mlops-testbed:models[0].versions[0].name", /would be 64 characters/);
    });

    it("accepts the stack files' examples", () => {
        const iris = modelSchema.parse({
            name: "iris",
            versions: v("v1", "v2"),
            traffic: { strategy: "canary", weights: { v1: 90, v2: 10 } },
        });
        assert.deepEqual(validateModels([iris], quotaDefaultsSchema.parse({})), []);
        assert.deepEqual(trafficWeights(iris), { v1: 90, v2: 10 });
    });
});
