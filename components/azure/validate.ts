import { type ConfigIssue, keyPath, rawArray, rawRecord } from "../../contract/config/issues";
import {
    AKS_SYSTEM_POOL_NAME,
    AZURE_GPU_VM_SIZES,
    aksPoolName,
    isAksPoolName,
    isAzureGpuVmSize,
    isAzureVmSizeName,
} from "./vm-sizes";

/**
 * Azure-specific configuration rules: they need the Azure tables, so they live with the Azure platform. They
 * read the raw config defensively, so they report alongside schema problems: every problem in one pass.
 */
export function validateAzureConfig(raw: Record<string, unknown>): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    if (raw.azure === undefined) {
        issues.push({
            key: keyPath(["azure"]),
            message: "is required when cloud is azure: set azure.location, e.g. { location: westeurope }",
        });
    }
    const examples = Object.keys(AZURE_GPU_VM_SIZES).slice(0, 3).join(", ");
    const aksNames = new Map<string, string>();
    rawArray(raw.gpuNodePools).forEach((poolValue, pi) => {
        const pool = rawRecord(poolValue);
        const types = rawArray(pool.instanceTypes);
        if (types.length > 1) {
            issues.push({
                key: keyPath(["gpuNodePools", pi, "instanceTypes"]),
                message: "an AKS node pool runs one VM size; give one size per pool and add a pool per extra size",
                value: types,
            });
        }
        types.forEach((t, ti) => {
            if (typeof t === "string" && !isAzureGpuVmSize(t)) {
                issues.push({
                    key: keyPath(["gpuNodePools", pi, "instanceTypes", ti]),
                    message: `is not an NVIDIA GPU VM size AKS supports; use one of ${Object.keys(AZURE_GPU_VM_SIZES).join(", ")} (e.g. ${examples})`,
                    value: t,
                });
            }
        });
        if (typeof pool.name !== "string") return; // the schema reports it
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
    const cluster = rawRecord(raw.cluster);
    const systemValue = rawRecord(cluster.systemNodes).instanceTypes;
    if (systemValue === undefined) {
        issues.push({
            key: keyPath(["cluster", "systemNodes", "instanceTypes"]),
            message:
                "is required when cloud is azure (the default, m6i.large, is an EC2 type): give one Azure VM size, e.g. [Standard_D4s_v5]",
        });
    }
    const system = rawArray(systemValue);
    system.forEach((t, ti) => {
        if (typeof t === "string" && !isAzureVmSizeName(t)) {
            issues.push({
                key: keyPath(["cluster", "systemNodes", "instanceTypes", ti]),
                message: "is not an Azure VM size such as Standard_D4s_v5",
                value: t,
            });
        }
    });
    if (system.length > 1) {
        issues.push({
            key: keyPath(["cluster", "systemNodes", "instanceTypes"]),
            message: "the AKS system pool runs one VM size; give exactly one",
            value: system,
        });
    }
    const adminRoleArns = rawArray(cluster.adminRoleArns);
    if (adminRoleArns.length > 0) {
        issues.push({
            key: keyPath(["cluster", "adminRoleArns"]),
            message:
                "names AWS IAM roles and does not apply on Azure; grant cluster admins with azure.adminPrincipalIds",
            value: adminRoleArns,
        });
    }
    return issues;
}
