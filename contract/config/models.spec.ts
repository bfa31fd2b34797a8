import * as assert from "node:assert/strict";
import {
    modelSchema,
    parseableModels,
    podsQuotaAdmits,
    quotaDefaultsSchema,
    rolloutPlan,
    shadowVersions,
    trafficWeights,
    validateModels,
} from "./models";

const defaults = quotaDefaultsSchema.parse({});
const model = (raw: unknown) => modelSchema.parse(raw);
const messages = (raw: unknown[], quota = defaults) =>
    validateModels(raw.map(model), quota).map((i) => `${i.key}: ${i.message}`);

describe("models config (contract/config/models.ts): quota, rollout, traffic and names", () => {
    describe("the namespace quota: every dimension a version's replicas do not fit, each named", () => {
        it("names the CPU request, memory request, memory limit, pod and GPU quota all at once, with the keys to raise", () => {
            const quota = quotaDefaultsSchema.parse({ cpu: "500m", memory: "1Gi", gpu: 1, pods: 2 });
            assert.deepEqual(messages([{ name: "iris", versions: [{ name: "v1", replicas: 3, gpu: 1 }] }], quota), [
                "mlops-testbed:models[0].versions[0].replicas: 3 replicas × 250m CPU request exceed the namespace CPU request quota of 500m; raise versions[0].quota.cpu or quotaDefaults.cpu, or lower replicas",
                "mlops-testbed:models[0].versions[0].replicas: 3 replicas × 512Mi memory request exceed the namespace memory request quota of 1Gi; raise versions[0].quota.memory or quotaDefaults.memory, or lower replicas",
                "mlops-testbed:models[0].versions[0].replicas: 3 replicas × 1Gi memory limit exceed the namespace memory limit quota of 1Gi; raise versions[0].quota.memory or quotaDefaults.memory, or lower replicas",
                "mlops-testbed:models[0].versions[0].replicas: 3 replicas × 1 pod exceed the namespace pod quota of 2; raise versions[0].quota.pods or quotaDefaults.pods, or lower replicas",
                "mlops-testbed:models[0].versions[0].gpu: 3 replicas × 1 GPU exceed the namespace GPU quota of 1; raise versions[0].quota.gpu or quotaDefaults.gpu, or lower replicas/gpu",
            ]);
        });

        it("accepts replicas that fill a quota exactly, and refuses one more", () => {
            const exact = { name: "iris", versions: [{ name: "v1", replicas: 4, quota: { pods: 4 } }] };
            assert.deepEqual(messages([exact]), []);
            const over = { name: "iris", versions: [{ name: "v1", replicas: 5, quota: { pods: 4 } }] };
            assert.deepEqual(messages([over]), [
                "mlops-testbed:models[0].versions[0].replicas: 5 replicas × 1 pod exceed the namespace pod quota of 4; raise versions[0].quota.pods or quotaDefaults.pods, or lower replicas",
            ]);
        });

        it("counts the larger of the server's and the init fetcher's requests per pod, and says which quota limits", () => {
            const v = model({ name: "iris", versions: [{ name: "v1", quota: { cpu: "1", memory: "8Gi", pods: 20 } }] })
                .versions[0];
            // 1 CPU / 250m (the server's request, larger than the fetcher's 50m) = 4 pods.
            const admits = podsQuotaAdmits(v, defaults);
            assert.equal(admits.pods, 4);
            assert.equal(admits.limitedBy.resource, "requests.cpu");
            assert.equal(admits.limitedBy.key, "cpu");
            const byMemoryLimit = model({ name: "iris", versions: [{ name: "v1", quota: { memory: "3Gi" } }] })
                .versions[0];
            // 3Gi / 512Mi requests = 6 pods, 3Gi / 1Gi limits = 3 pods: the limit decides.
            assert.equal(podsQuotaAdmits(byMemoryLimit, defaults).pods, 3);
            assert.equal(podsQuotaAdmits(byMemoryLimit, defaults).limitedBy.resource, "limits.memory");
            const byPods = model({ name: "iris", versions: [{ name: "v1", quota: { pods: 2 } }] }).versions[0];
            assert.equal(podsQuotaAdmits(byPods, defaults).limitedBy.resource, "pods");
            const byGpu = model({ name: "iris", versions: [{ name: "v1", gpu: 2, quota: { gpu: 4 } }] }).versions[0];
            assert.deepEqual(
                [podsQuotaAdmits(byGpu, defaults).pods, podsQuotaAdmits(byGpu, defaults).limitedBy.resource],
                [2, "requests.nvidia.com/gpu"],
            );
        });

        it("names the dimension listed first when two admit the same pods (the CPU request before the pods)", () => {
            // 1 CPU / 250m = 4 pods, and the pod quota is 4.
            const tie = model({ name: "iris", versions: [{ name: "v1", quota: { cpu: "1", pods: 4 } }] }).versions[0];
            const admits = podsQuotaAdmits(tie, defaults);
            assert.deepEqual(
                [admits.pods, admits.limitedBy.resource, admits.limitedBy.key],
                [4, "requests.cpu", "cpu"],
            );
        });
    });

    describe("rolloutPlan: surge and HPA maximum within the quota", () => {
        const version = (raw: unknown) => model({ name: "iris", versions: [raw] }).versions[0];

        it("surges one CPU pod when the quota has room for it, and lets the HPA reach 3 × replicas", () => {
            assert.deepEqual(rolloutPlan(version({ name: "v1", replicas: 2 }), defaults), {
                maxSurge: 1,
                maxReplicas: 6,
            });
        });

        it("caps the HPA at what the quota admits minus the surge pod, never below replicas", () => {
            // Room for exactly replicas + 1: surge 1, no room left to scale.
            assert.deepEqual(rolloutPlan(version({ name: "v1", replicas: 3, quota: { pods: 4 } }), defaults), {
                maxSurge: 1,
                maxReplicas: 3,
            });
            // Room for replicas + 3: the HPA may add 2 while a surge pod is up.
            assert.deepEqual(rolloutPlan(version({ name: "v1", replicas: 3, quota: { pods: 6 } }), defaults), {
                maxSurge: 1,
                maxReplicas: 5,
            });
            // No room for a surge pod: replace one at a time.
            assert.deepEqual(rolloutPlan(version({ name: "v1", replicas: 3, quota: { pods: 3 } }), defaults), {
                maxSurge: 0,
                maxReplicas: 3,
            });
        });

        it("never surges a GPU version, even with room in the quota", () => {
            assert.deepEqual(rolloutPlan(version({ name: "v1", replicas: 1, gpu: 1, quota: { gpu: 4 } }), defaults), {
                maxSurge: 0,
                maxReplicas: 3,
            });
        });
    });

    describe("trafficWeights and shadowVersions", () => {
        it("a single version without weights takes all live traffic", () => {
            assert.deepEqual(trafficWeights(model({ name: "iris", versions: [{ name: "v1" }] })), { v1: 100 });
        });

        it("under shadow, the primary takes all live traffic and every other version is mirrored", () => {
            const m = model({
                name: "iris",
                versions: [{ name: "v1" }, { name: "v2" }, { name: "v3" }],
                traffic: { strategy: "shadow", shadowOf: "v2" },
            });
            assert.deepEqual(trafficWeights(m), { v1: 0, v2: 100, v3: 0 });
            assert.deepEqual(shadowVersions(m), ["v1", "v3"]);
        });

        it("lists every version, 0 for those the weights do not name; no shadows outside strategy shadow", () => {
            const m = model({
                name: "iris",
                versions: [{ name: "v1" }, { name: "v2" }, { name: "v3" }],
                traffic: { strategy: "canary", weights: { v1: 90, v2: 10 } },
            });
            assert.deepEqual(trafficWeights(m), { v1: 90, v2: 10, v3: 0 });
            assert.deepEqual(shadowVersions(m), []);
        });
    });

    describe("names and namespaces", () => {
        it("accepts a namespace of exactly 63 characters (names the schema would refuse, checked all the same)", () => {
            const m = model({ name: "m".repeat(30), versions: [{ name: "v1" }] });
            const at63 = { ...m, versions: [{ ...m.versions[0], name: "v".repeat(32) }] };
            assert.deepEqual(validateModels([at63], defaults), []);
        });

        it("refuses a reserved namespace and names what is reserved in the message", () => {
            const [issue, ...rest] = messages([{ name: "cert", versions: [{ name: "manager" }] }]);
            assert.deepEqual(rest, []);
            assert.match(
                issue,
                /^mlops-testbed:models\[0\]\.versions\[0\]\.name: namespace "cert-manager" is reserved \(kube-\*, default, /,
            );
            assert.match(issue, /, cert-manager\); rename the model or the version$/);
        });

        it("judges names only where they parsed: a missing name adds no duplicate, namespace or reserved issue", () => {
            const raw = [
                // No names (the schema reports them): not duplicates of each other, no namespace "-".
                { name: 1, versions: [{ name: 2 }, { name: 3 }], traffic: { strategy: "sideways" } },
                { name: 1, versions: "none" },
                // A version without a name under model "kube" is not the reserved namespace "kube-".
                { name: "kube", versions: [{ replicas: 2 }] },
                // Traffic that does not parse skips the traffic rules; the names are still judged.
                { name: "iris", versions: [{ name: "v1", replicas: "many" }, { name: "v1" }], traffic: "canary" },
                // No traffic section is strategy single.
                { name: "fraud", versions: [{ name: "v1" }, { name: "v2" }] },
                // Versions without names: the list says so rather than printing empty names.
                { name: "spam", versions: [{ replicas: 1 }, { replicas: 1 }] },
                "not a model",
            ];
            const parsed = parseableModels(raw);
            assert.ok(parsed);
            assert.deepEqual(
                validateModels(parsed, defaults).map((i) => `${i.key}: ${i.message}`),
                [
                    'mlops-testbed:models[3].versions[1].name: duplicate version name within model "iris"; version names must be unique per model',
                    "mlops-testbed:models[4].traffic.weights: strategy single with 2 versions must name the serving one: weights: { <version>: 100 }; versions: v1, v2",
                    "mlops-testbed:models[5].traffic.weights: strategy single with 2 versions must name the serving one: weights: { <version>: 100 }; versions: none named yet",
                ],
            );
            assert.equal(parseableModels({ name: "iris" }), undefined);
        });

        it("reads null entries and a versions value that is not a list as empty, and keeps versions that parse whole", () => {
            const parsed = parseableModels([
                null,
                { name: "iris", versions: "v1" },
                { name: "fraud", versions: [null, { name: "v1", replicas: 21 }] },
            ]);
            assert.ok(parsed);
            const single = { strategy: "single" };
            assert.deepEqual(parsed, [
                { name: "", versions: [], traffic: single },
                { name: "iris", versions: [], traffic: single },
                {
                    name: "fraud",
                    versions: [
                        { name: "", replicas: 0, gpu: 0, quota: {} },
                        { name: "v1", replicas: 21, gpu: 0, quota: {} },
                    ],
                    traffic: single,
                },
            ]);
            // So the quota rules still judge the version that parsed.
            assert.deepEqual(
                validateModels(parsed, defaults).map((i) => `${i.key}: ${i.message}`),
                [
                    "mlops-testbed:models[2].versions[1].replicas: 21 replicas × 1 pod exceed the namespace pod quota of 20; raise versions[1].quota.pods or quotaDefaults.pods, or lower replicas",
                    "mlops-testbed:models[2].traffic.weights: strategy single with 2 versions must name the serving one: weights: { <version>: 100 }; versions: v1",
                ],
            );
        });
    });
});
