/** A models config with every traffic strategy, several versions and quota overrides, shared by the model specs. */
export const MODELS = [
    {
        name: "iris",
        versions: [{ name: "v1" }, { name: "v2", gpu: 1 }, { name: "v3" }],
        traffic: { strategy: "canary", weights: { v1: 80, v2: 15, v3: 5 } },
    },
    {
        name: "digits",
        versions: [{ name: "v1", replicas: 2, quota: { cpu: "2", pods: 4 } }],
        traffic: { strategy: "single" },
    },
    {
        name: "churn",
        versions: [{ name: "blue" }, { name: "green" }],
        traffic: { strategy: "blue-green", weights: { blue: 0, green: 100 } },
    },
    {
        name: "fraud",
        versions: [{ name: "v1" }, { name: "v2" }, { name: "v3" }],
        traffic: { strategy: "shadow", shadowOf: "v2" },
    },
];

/** Every (model, version, namespace) of MODELS. */
export const VERSIONS = MODELS.flatMap((m) => m.versions.map((v) => ({ model: m.name, version: v.name, namespace: `${m.name}-${v.name}` })));
