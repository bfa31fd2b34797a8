import type { TestbedConfig } from "../../infra/config";
import { type ConfigIssue, keyPath } from "../../infra/schema/issues";

/** Rules for an existing cluster: it needs its kubeconfig and its own description, and builds no nodes. */
export function validateExistingConfig(config: TestbedConfig): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    if (!config.existing) {
        issues.push({
            key: keyPath(["existing"]),
            message: "is required when cloud is existing: set at least existing.imageRegistry, e.g. { imageRegistry: localhost:5001/model-server }",
        });
    }
    if (config.kubeconfig === undefined) {
        issues.push({
            key: keyPath(["kubeconfig"]),
            message: "is required when cloud is existing: pulumi config set --secret kubeconfig < path/to/kubeconfig",
        });
    }
    if (config.gpuNodePools.length > 0) {
        issues.push({
            key: keyPath(["gpuNodePools"]),
            message: "an existing cluster brings its own nodes, so no pools are created; remove gpuNodePools and describe the GPU nodes under existing.gpu (nodeLabel, taints)",
            value: config.gpuNodePools.map((p) => p.name),
        });
    }
    const taints = config.existing?.gpu.taints ?? [];
    const seen = new Set<string>();
    taints.forEach((t, i) => {
        const id = `${t.key}:${t.effect}`;
        if (seen.has(id)) issues.push({ key: keyPath(["existing", "gpu", "taints", i]), message: `duplicate taint ${id}`, value: t });
        seen.add(id);
    });
    return issues;
}
