/**
 * NVIDIA GPU VM sizes AKS can run GPU node pools on, keyed by the exact size name. Anything not listed is
 * refused in a GPU pool, so a typo or a CPU size fails at config time, not as a node pool that never offers a
 * GPU. (NVadsA10 v5 sizes are left out: they need the GRID driver AKS does not install.)
 */
export const AZURE_GPU_VM_SIZES = {
    Standard_NC4as_T4_v3: { gpu: "NVIDIA T4", gpus: 1 },
    Standard_NC8as_T4_v3: { gpu: "NVIDIA T4", gpus: 1 },
    Standard_NC16as_T4_v3: { gpu: "NVIDIA T4", gpus: 1 },
    Standard_NC64as_T4_v3: { gpu: "NVIDIA T4", gpus: 4 },
    Standard_NC6s_v3: { gpu: "NVIDIA V100", gpus: 1 },
    Standard_NC12s_v3: { gpu: "NVIDIA V100", gpus: 2 },
    Standard_NC24s_v3: { gpu: "NVIDIA V100", gpus: 4 },
    Standard_NC24ads_A100_v4: { gpu: "NVIDIA A100 80GB", gpus: 1 },
    Standard_NC48ads_A100_v4: { gpu: "NVIDIA A100 80GB", gpus: 2 },
    Standard_NC96ads_A100_v4: { gpu: "NVIDIA A100 80GB", gpus: 4 },
    Standard_ND96asr_v4: { gpu: "NVIDIA A100 40GB", gpus: 8 },
    Standard_ND96amsr_A100_v4: { gpu: "NVIDIA A100 80GB", gpus: 8 },
    Standard_NC40ads_H100_v5: { gpu: "NVIDIA H100 NVL", gpus: 1 },
    Standard_NC80adis_H100_v5: { gpu: "NVIDIA H100 NVL", gpus: 2 },
    Standard_ND96isr_H100_v5: { gpu: "NVIDIA H100", gpus: 8 },
    Standard_ND96isr_H200_v5: { gpu: "NVIDIA H200", gpus: 8 },
} as const;

export type AzureGpuVmSize = keyof typeof AZURE_GPU_VM_SIZES;

export function isAzureGpuVmSize(size: string): size is AzureGpuVmSize {
    return Object.prototype.hasOwnProperty.call(AZURE_GPU_VM_SIZES, size);
}

/** Shape of an Azure VM size name such as Standard_D4s_v5 (the system pool is not checked against a table). */
export function isAzureVmSizeName(size: string): boolean {
    return /^Standard_[A-Z][A-Za-z0-9_]*$/.test(size);
}

/** AKS Linux node pool names: 1-12 lowercase letters and digits, starting with a letter. */
const AKS_POOL_NAME = /^[a-z][a-z0-9]{0,11}$/;

/** AKS node pool name of a testbed GPU pool: the config name without dashes (it must then fit AKS's rules). */
export function aksPoolName(poolName: string): string {
    return poolName.replace(/-/g, "");
}

export function isAksPoolName(name: string): boolean {
    return AKS_POOL_NAME.test(name);
}

/** Name of the AKS system pool; GPU pools may not take it. */
export const AKS_SYSTEM_POOL_NAME = "system";
