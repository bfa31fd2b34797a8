import type { TestbedConfig } from "../../infra/config";
import { type ConfigIssue, keyPath } from "../../infra/schema/issues";
import { AKS_SYSTEM_POOL_NAME, AZURE_GPU_VM_SIZES, aksPoolName, isAksPoolName, isAzureGpuVmSize, isAzureVmSizeName } from "./vm-sizes";

/** Azure-specific configuration rules: they need the Azure tables, so they live with the Azure platform. */
export function validateAzureConfig(config: TestbedConfig): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    if (!config.azure) {
        issues.push({ key: keyPath(["azure"]), message: "is required when cloud is azure: set azure.location, e.g. { location: westeurope }" });
    }
    const examples = Object.keys(AZURE_GPU_VM_SIZES).slice(0, 3).join(", ");
    const aksNames = new Map<string, string>();
    config.gpuNodePools.forEach((pool, pi) => {
        if (pool.instanceTypes.length > 1) {
            issues.push({
                key: keyPath(["gpuNodePools", pi, "instanceTypes"]),
                message: "an AKS node pool runs one VM size; give one size per pool and add a pool per extra size",
                value: pool.instanceTypes,
            });
        }
        pool.instanceTypes.forEach((t, ti) => {
            if (!isAzureGpuVmSize(t)) {
                issues.push({
                    key: keyPath(["gpuNodePools", pi, "instanceTypes", ti]),
                    message: `is not an NVIDIA GPU VM size AKS supports; use one of ${Object.keys(AZURE_GPU_VM_SIZES).join(", ")} (e.g. ${examples})`,
                    value: t,
                });
            }
        });
        const aks = aksPoolName(pool.name);
        if (!isAksPoolName(aks) || aks === AKS_SYSTEM_POOL_NAME) {
            issues.push({
                key: keyPath(["gpuNodePools", pi, "name"]),
                message: `becomes the AKS node pool name "${aks}", which must be 1-12 lowercase letters and digits starting with a letter and not "${AKS_SYSTEM_POOL_NAME}"; shorten it`,
                value: pool.name,
            });
        } else if (aksNames.has(aks)) {
            issues.push({
                key: keyPath(["gpuNodePools", pi, "name"]),
                message: `becomes the AKS node pool name "${aks}", the same as pool "${aksNames.get(aks)}"; rename one`,
                value: pool.name,
            });
        }
        aksNames.set(aks, pool.name);
    });
    const system = config.cluster.systemNodes.instanceTypes;
    system.forEach((t, ti) => {
        if (!isAzureVmSizeName(t)) {
            issues.push({ key: keyPath(["cluster", "systemNodes", "instanceTypes", ti]), message: "is not an Azure VM size such as Standard_D4s_v5", value: t });
        }
    });
    if (system.length > 1) {
        issues.push({
            key: keyPath(["cluster", "systemNodes", "instanceTypes"]),
            message: "the AKS system pool runs one VM size; give exactly one",
            value: system,
        });
    }
    if (config.cluster.adminRoleArns.length > 0) {
        issues.push({
            key: keyPath(["cluster", "adminRoleArns"]),
            message: "names AWS IAM roles and does not apply on Azure; grant cluster admins with azure.adminPrincipalIds",
            value: config.cluster.adminRoleArns,
        });
    }
    return issues;
}
