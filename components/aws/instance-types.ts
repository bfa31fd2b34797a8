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

/**
 * CPU instance families the system node group may use, with the architecture each runs and the EKS-optimized
 * AL2023 image for it. Graviton families (arm64) cost about a tenth to a fifth less; every image that runs on
 * system nodes must then publish an arm64 variant (components/aws/system-images.ts), and model-server images, built
 * on system nodes, are built for both architectures (docs/benchmarks.md).
 * A family not here is refused at config time.
 */
export const AWS_SYSTEM_FAMILIES = {
    m5: { arch: "x86_64" },
    m6i: { arch: "x86_64" },
    m6a: { arch: "x86_64" },
    m7i: { arch: "x86_64" },
    m7a: { arch: "x86_64" },
    c6i: { arch: "x86_64" },
    c7i: { arch: "x86_64" },
    r6i: { arch: "x86_64" },
    t3: { arch: "x86_64" },
    t3a: { arch: "x86_64" },
    c5: { arch: "x86_64" },
    c5a: { arch: "x86_64" },
    c6a: { arch: "x86_64" },
    m6g: { arch: "arm64" },
    m7g: { arch: "arm64" },
    m8g: { arch: "arm64" },
    c6g: { arch: "arm64" },
    c7g: { arch: "arm64" },
    r6g: { arch: "arm64" },
    r7g: { arch: "arm64" },
    t4g: { arch: "arm64" },
} as const;

export type AwsSystemFamily = keyof typeof AWS_SYSTEM_FAMILIES;
export type CpuArch = (typeof AWS_SYSTEM_FAMILIES)[AwsSystemFamily]["arch"];

/** The EKS-optimized AL2023 image type of a CPU node group, per architecture. */
export const SYSTEM_AMI_TYPES = { x86_64: "AL2023_x86_64_STANDARD", arm64: "AL2023_ARM_64_STANDARD" } as const;

/** The system family of an instance type such as `t4g.medium`, or undefined when the table does not have it. */
export function systemFamilyOf(instanceType: string): AwsSystemFamily | undefined {
    const family = INSTANCE_TYPE.exec(instanceType)?.[1];
    return family !== undefined && Object.prototype.hasOwnProperty.call(AWS_SYSTEM_FAMILIES, family)
        ? (family as AwsSystemFamily)
        : undefined;
}

/** The architectures of a system node group's instance types (config validation requires exactly one). */
export function systemArchesOf(instanceTypes: readonly string[]): CpuArch[] {
    const arches = new Set<CpuArch>();
    for (const t of instanceTypes) {
        const family = systemFamilyOf(t);
        if (family) arches.add(AWS_SYSTEM_FAMILIES[family].arch);
    }
    return [...arches];
}

/** EKS AMI type for the system node group; config validation guarantees one known architecture. */
export function systemAmiType(instanceTypes: readonly string[]): (typeof SYSTEM_AMI_TYPES)[CpuArch] {
    const arches = systemArchesOf(instanceTypes);
    if (arches.length !== 1 || instanceTypes.some((t) => !systemFamilyOf(t)))
        throw new Error(`system instance types ${instanceTypes.join(", ")} are not of one known architecture`);
    return SYSTEM_AMI_TYPES[arches[0]];
}
