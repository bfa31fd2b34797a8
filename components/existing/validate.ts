import { type ConfigIssue, keyPath, rawArray, rawRecord } from "../../contract/config/issues";

/**
 * Rules for an existing cluster: it needs its kubeconfig and its own description, and builds no nodes. They read
 * the raw config defensively, so they report alongside schema problems: every problem in one pass.
 */
export function validateExistingConfig(raw: Record<string, unknown>): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    if (raw.existing === undefined) {
        issues.push({
            key: keyPath(["existing"]),
            message:
                "is required when cloud is existing: set at least existing.imageRegistry, e.g. { imageRegistry: registry.example.com/mlops/model-server }",
        });
    }
    if (raw.kubeconfig === undefined) {
        issues.push({
            key: keyPath(["kubeconfig"]),
            message: "is required when cloud is existing: pulumi config set --secret kubeconfig < path/to/kubeconfig",
        });
    }
    const pools = rawArray(raw.gpuNodePools);
    if (pools.length > 0) {
        issues.push({
            key: keyPath(["gpuNodePools"]),
            message:
                "an existing cluster brings its own nodes, so no pools are created; remove gpuNodePools and describe the GPU nodes under existing.gpu (nodeLabel, taints)",
            value: pools.map((p) => rawRecord(p).name),
        });
    }
    const seen = new Set<string>();
    rawArray(rawRecord(rawRecord(raw.existing).gpu).taints).forEach((value, i) => {
        const t = rawRecord(value);
        if (typeof t.key !== "string" || typeof t.effect !== "string") return; // the schema reports it
        const id = `${t.key}:${t.effect}`;
        if (seen.has(id))
            issues.push({ key: keyPath(["existing", "gpu", "taints", i]), message: `duplicate taint ${id}`, value: t });
        seen.add(id);
    });
    return issues;
}
