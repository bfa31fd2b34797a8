/**
 * GPU instance families on EC2 that the testbed can schedule on, keyed by family. Anything not in this
 * table is refused in a GPU pool, so a typo or a CPU type fails at config time, not as a node that never
 * joins. `amiType` is the EKS-optimized AL2023 NVIDIA image for the family's architecture.
 */
export const AWS_GPU_FAMILIES = {
    g4dn: { gpu: "NVIDIA T4", arch: "x86_64", amiType: "AL2023_x86_64_NVIDIA" },
    g5: { gpu: "NVIDIA A10G", arch: "x86_64", amiType: "AL2023_x86_64_NVIDIA" },
    g5g: { gpu: "NVIDIA T4G", arch: "arm64", amiType: "AL2023_ARM_64_NVIDIA" },
    g6: { gpu: "NVIDIA L4", arch: "x86_64", amiType: "AL2023_x86_64_NVIDIA" },
    g6e: { gpu: "NVIDIA L40S", arch: "x86_64", amiType: "AL2023_x86_64_NVIDIA" },
    gr6: { gpu: "NVIDIA L4", arch: "x86_64", amiType: "AL2023_x86_64_NVIDIA" },
    p3: { gpu: "NVIDIA V100", arch: "x86_64", amiType: "AL2023_x86_64_NVIDIA" },
    p3dn: { gpu: "NVIDIA V100", arch: "x86_64", amiType: "AL2023_x86_64_NVIDIA" },
    p4d: { gpu: "NVIDIA A100", arch: "x86_64", amiType: "AL2023_x86_64_NVIDIA" },
    p4de: { gpu: "NVIDIA A100", arch: "x86_64", amiType: "AL2023_x86_64_NVIDIA" },
    p5: { gpu: "NVIDIA H100", arch: "x86_64", amiType: "AL2023_x86_64_NVIDIA" },
    p5e: { gpu: "NVIDIA H200", arch: "x86_64", amiType: "AL2023_x86_64_NVIDIA" },
    p5en: { gpu: "NVIDIA H200", arch: "x86_64", amiType: "AL2023_x86_64_NVIDIA" },
} as const;

export type AwsGpuFamily = keyof typeof AWS_GPU_FAMILIES;

const INSTANCE_TYPE = /^([a-z][a-z0-9-]*)\.([0-9]*[a-z0-9]+)$/;

/** The GPU family of an instance type such as `g5.xlarge`, or undefined when it has no GPU we support. */
export function gpuFamilyOf(instanceType: string): AwsGpuFamily | undefined {
    const m = INSTANCE_TYPE.exec(instanceType);
    if (!m) return undefined;
    const family = m[1];
    return Object.prototype.hasOwnProperty.call(AWS_GPU_FAMILIES, family) ? (family as AwsGpuFamily) : undefined;
}

/** Instance-type name of the general-purpose families used for the system pool (shape check only). */
export function isInstanceTypeName(instanceType: string): boolean {
    return INSTANCE_TYPE.test(instanceType);
}
