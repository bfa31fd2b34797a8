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
export const VERSIONS = MODELS.flatMap((m) =>
    m.versions.map((v) => ({ model: m.name, version: v.name, namespace: `${m.name}-${v.name}` })),
);

/**
 * `models` at the scale the schema allows: `models` models of `versions` versions, strategies in turn (canary,
 * blue-green, shadow, single), two replicas each and a GPU on every other model; names of 29 characters.
 */
export function extremeModels(models = 50, versions = 10): Record<string, unknown>[] {
    const strategies = ["canary", "blue-green", "shadow", "single"];
    return Array.from({ length: models }, (_, m) => {
        const names = Array.from({ length: versions }, (_, v) => `v${v}`);
        const strategy = strategies[m % strategies.length];
        const traffic =
            strategy === "canary"
                ? {
                      strategy,
                      weights: Object.fromEntries(
                          names.map((n, i) => [n, Math.floor(100 / versions) + (i === 0 ? 100 % versions : 0)]),
                      ),
                  }
                : strategy === "blue-green"
                  ? { strategy, weights: { [names[0]]: 100 } }
                  : strategy === "shadow"
                    ? { strategy, shadowOf: names[0] }
                    : { strategy, weights: { [names[versions - 1]]: 100 } };
        return {
            name: `model-${String(m).padStart(2, "0")}-${"x".repeat(20)}`,
            versions: names.map((name) => ({ name, replicas: 2, gpu: m % 2 })),
            traffic,
        };
    });
}

/** Stack overrides for extreme models, with namespace quotas large enough for their replicas and GPUs. */
export function extremeOverrides(models: Record<string, unknown>[]): Record<string, unknown> {
    return { models, quotaDefaults: { cpu: "1000", memory: "4Ti", gpu: 64, pods: 1000, storage: "100Ti" } };
}
