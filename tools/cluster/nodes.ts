/**
 * Simulated nodes (kwok) as each platform makes them: the pools, labels and taints are read from the stack's offline
 * plan (the EKS node groups and AKS pools the program registers) or, on an existing cluster, from the stack's
 * validated `existing` config, which is what its platform hands the cluster layer. Nothing here restates a label
 * or a taint.
 */
import { AZURE_GPU_VM_SIZES, type AzureGpuVmSize } from "../../components/azure/vm-sizes";
import type { TestbedConfig } from "../../infra/config";
import type { Json } from "../../contract/json";

/** The annotation kwok manages nodes by (cluster.sh starts kwok with this selector). */
export const KWOK_NODE_ANNOTATION = { key: "kwok.x-k8s.io/node", value: "fake" } as const;

export interface Taint {
    readonly key: string;
    readonly value?: string;
    readonly effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

/** One node pool as the platform builds it. */
export interface NodePool {
    readonly name: string;
    readonly role: "system" | "gpu";
    readonly labels: Readonly<Record<string, string>>;
    readonly taints: readonly Taint[];
    /** Nodes to simulate: the system pool's desired size, a GPU pool's maximum (what its autoscaler may reach). */
    readonly nodes: number;
    /** `nvidia.com/gpu` per node (0 for the system pool). */
    readonly gpusPerNode: number;
    /** Instance type or VM size, for the well-known instance-type label. */
    readonly instanceType: string;
}

/** Resources of a planned resource in plan.json. */
export interface PlanResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    readonly parent?: string | null;
    readonly custom?: boolean;
    readonly inputs: Record<string, Json>;
    readonly dependsOn: readonly string[];
}

/**
 * GPUs of the EC2 sizes the stacks use. EKS node groups do not state a GPU count (the device plugin discovers it on
 * the node), so this is the one fact kept here; an instance type missing from it is an error, not a guess.
 */
export const EC2_GPUS_PER_INSTANCE: Readonly<Record<string, number>> = {
    "g4dn.xlarge": 1,
    "g4dn.2xlarge": 1,
    "g4dn.4xlarge": 1,
    "g4dn.12xlarge": 4,
    "g5.xlarge": 1,
    "g5.2xlarge": 1,
    "g5.4xlarge": 1,
    "g5.12xlarge": 4,
};

const EKS_TAINT_EFFECTS = {
    NO_SCHEDULE: "NoSchedule",
    NO_EXECUTE: "NoExecute",
    PREFER_NO_SCHEDULE: "PreferNoSchedule",
} as const;

function ec2Gpus(instanceType: string): number {
    const n = EC2_GPUS_PER_INSTANCE[instanceType];
    if (n === undefined)
        throw new Error(`GPUs per ${instanceType} unknown: add it to EC2_GPUS_PER_INSTANCE (tools/cluster/nodes.ts)`);
    return n;
}

/** "key=value:Effect" (AKS nodeTaints) as a taint. */
export function parseTaint(s: string): Taint {
    const m = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(s);
    if (!m) throw new Error(`taint ${JSON.stringify(s)} is not key=value:Effect`);
    return { key: m[1], ...(m[2] !== undefined ? { value: m[2] } : {}), effect: m[3] as Taint["effect"] };
}

function eksPools(resources: readonly PlanResource[]): NodePool[] {
    return resources
        .filter((r) => r.type === "aws:eks/nodeGroup:NodeGroup")
        .map((r) => {
            const i = r.inputs;
            const taints: Taint[] = (i.taints ?? []).map(
                (t: { key: string; value?: string; effect: keyof typeof EKS_TAINT_EFFECTS }) => ({
                    key: t.key,
                    value: t.value,
                    effect: EKS_TAINT_EFFECTS[t.effect],
                }),
            );
            const labels: Record<string, string> = i.labels ?? {};
            const gpu = taints.some((t) => t.key === "nvidia.com/gpu");
            const instanceType: string = i.instanceTypes[0];
            return {
                name: r.name,
                role: gpu ? "gpu" : "system",
                labels: { ...labels, "eks.amazonaws.com/capacityType": i.capacityType },
                taints,
                nodes: gpu ? i.scalingConfig.maxSize : i.scalingConfig.desiredSize,
                gpusPerNode: gpu ? ec2Gpus(instanceType) : 0,
                instanceType,
            } satisfies NodePool;
        });
}

function aksPools(resources: readonly PlanResource[]): NodePool[] {
    const pools: NodePool[] = [];
    const add = (name: string, p: Record<string, Json>) => {
        const taints = (p.nodeTaints ?? []).map(parseTaint);
        const gpu = taints.some((t: Taint) => t.key === "nvidia.com/gpu");
        const size = p.vmSize as string;
        const gpus = gpu ? AZURE_GPU_VM_SIZES[size as AzureGpuVmSize]?.gpus : 0;
        if (gpus === undefined) throw new Error(`${name}: VM size ${size} is not in AZURE_GPU_VM_SIZES`);
        pools.push({
            name,
            role: gpu ? "gpu" : "system",
            labels: { ...(p.nodeLabels ?? {}), "kubernetes.azure.com/agentpool": p.name ?? p.agentPoolName },
            taints,
            nodes: gpu ? p.maxCount : p.count,
            gpusPerNode: gpus,
            instanceType: size,
        });
    };
    for (const r of resources) {
        if (r.type === "azure-native:containerservice:ManagedCluster")
            for (const p of r.inputs.agentPoolProfiles ?? []) add(`${r.name}/${p.name}`, p);
        if (r.type === "azure-native:containerservice:AgentPool") add(r.name, r.inputs);
    }
    return pools;
}

/**
 * An existing cluster brings its own nodes; its platform knows them only through `existing.gpu` and
 * `existing.systemNodeSelector`. Two system nodes and two GPU nodes with one GPU each stand for them.
 */
function existingPools(config: TestbedConfig): NodePool[] {
    if (config.cloud !== "existing") throw new Error(`a ${config.cloud} stack has no existing section`);
    const e = config.existing;
    return [
        {
            name: "existing-system",
            role: "system",
            labels: { ...e.systemNodeSelector },
            taints: [],
            nodes: 2,
            gpusPerNode: 0,
            instanceType: "existing",
        },
        {
            name: "existing-gpu",
            role: "gpu",
            labels: { [e.gpu.nodeLabel.key]: e.gpu.nodeLabel.value },
            taints: e.gpu.taints.map((t) => ({
                key: t.key,
                ...(t.value !== undefined ? { value: t.value } : {}),
                effect: t.effect,
            })),
            nodes: 2,
            gpusPerNode: 1,
            instanceType: "existing",
        },
    ];
}

/** The node pools of a stack, from its plan (AWS, Azure) or its config (existing). */
export function nodePools(cloud: string, resources: readonly PlanResource[], config: TestbedConfig): NodePool[] {
    const pools =
        cloud === "aws" ? eksPools(resources) : cloud === "azure" ? aksPools(resources) : existingPools(config);
    if (!pools.some((p) => p.role === "system")) throw new Error(`${cloud}: no system pool found`);
    return pools;
}

/** Node objects for kwok: one per simulated node, Ready once kwok takes it over. */
export function nodeObjects(pools: readonly NodePool[]): Record<string, Json>[] {
    return pools.flatMap((pool) =>
        Array.from({ length: pool.nodes }, (_, i) => {
            const name = `${pool.name.replace(/[^a-z0-9-]/g, "-")}-${i}`;
            const capacity: Record<string, string> = {
                cpu: "4",
                memory: "16Gi",
                pods: "110",
                "ephemeral-storage": "100Gi",
            };
            if (pool.gpusPerNode > 0) capacity["nvidia.com/gpu"] = String(pool.gpusPerNode);
            return {
                apiVersion: "v1",
                kind: "Node",
                metadata: {
                    name,
                    annotations: {
                        [KWOK_NODE_ANNOTATION.key]: KWOK_NODE_ANNOTATION.value,
                        "node.alpha.kubernetes.io/ttl": "0",
                    },
                    labels: {
                        ...pool.labels,
                        "kubernetes.io/hostname": name,
                        "kubernetes.io/os": "linux",
                        "kubernetes.io/arch": "amd64",
                        "node.kubernetes.io/instance-type": pool.instanceType,
                        type: "kwok",
                    },
                },
                spec: {
                    taints: pool.taints.map((t) => ({
                        key: t.key,
                        ...(t.value !== undefined ? { value: t.value } : {}),
                        effect: t.effect,
                    })),
                },
                status: { capacity, allocatable: capacity },
            };
        }),
    );
}
