import * as containerservice from "@pulumi/azure-native/containerservice";
import * as pulumi from "@pulumi/pulumi";
import { GPU_NODE_LABELS, GPU_POOL_LABEL, GPU_TAINT } from "../../contract/scheduling";
import { aksPoolName } from "./vm-sizes";

/** The taint AKS puts on every Spot node; pods must tolerate it to land on a Spot pool. */
export const AKS_SPOT_TAINT = {
    key: "kubernetes.azure.com/scalesetpriority",
    value: "spot",
    effect: "NoSchedule",
} as const;

/** `key=value:Effect`, the taint syntax of the AKS API. */
export function aksTaint(t: { key: string; value: string; effect: string }): string {
    return `${t.key}=${t.value}:${t.effect}`;
}

export interface AksGpuNodePoolArgs {
    readonly resourceGroupName: pulumi.Input<string>;
    readonly clusterName: pulumi.Input<string>;
    /** Testbed pool name (config); the AKS pool name is derived from it. */
    readonly poolName: string;
    readonly vmSize: string;
    readonly capacityType: "spot" | "on-demand";
    readonly minSize: number;
    readonly maxSize: number;
    readonly diskSizeGiB: number;
    /** Extra labels from config. */
    readonly labels: Record<string, string>;
    readonly kubernetesVersion: string;
    readonly subnetId: pulumi.Input<string>;
    readonly availabilityZones: string[];
    /** AKS GPU driver setting: `Install` (AKS installs the NVIDIA driver) or `None`. */
    readonly gpuDriver: "Install" | "None";
    readonly tags: Record<string, string>;
}

/** The AKS agent-pool arguments of a GPU pool (pure, so tests can read them without a plan). */
export function gpuAgentPoolArgs(args: AksGpuNodePoolArgs): containerservice.AgentPoolArgs {
    const spot = args.capacityType === "spot";
    return {
        resourceGroupName: args.resourceGroupName,
        resourceName: args.clusterName,
        agentPoolName: aksPoolName(args.poolName),
        mode: "User",
        type: "VirtualMachineScaleSets",
        osType: "Linux",
        osSKU: "Ubuntu",
        vmSize: args.vmSize,
        orchestratorVersion: args.kubernetesVersion,
        osDiskSizeGB: args.diskSizeGiB,
        vnetSubnetID: args.subnetId,
        availabilityZones: args.availabilityZones,
        enableAutoScaling: true,
        minCount: args.minSize,
        maxCount: args.maxSize,
        count: args.minSize,
        nodeLabels: { ...args.labels, ...GPU_NODE_LABELS, [GPU_POOL_LABEL]: args.poolName },
        nodeTaints: [aksTaint(GPU_TAINT), ...(spot ? [aksTaint(AKS_SPOT_TAINT)] : [])],
        scaleSetPriority: spot ? "Spot" : "Regular",
        ...(spot ? { scaleSetEvictionPolicy: "Delete", spotMaxPrice: -1 } : {}),
        gpuProfile: { driver: args.gpuDriver },
        tags: args.tags,
    };
}

/**
 * An AKS user node pool of one GPU VM size, scaled by the cluster autoscaler between min (0 allowed) and max.
 * `count` is ignored after creation so `pulumi preview` stays clean while the autoscaler works. Spot pools
 * pay at most the on-demand price (-1) and delete evicted nodes.
 */
export class AksGpuNodePool extends pulumi.ComponentResource {
    readonly agentPool: containerservice.AgentPool;

    constructor(name: string, args: AksGpuNodePoolArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlops-testbed:azure:GpuNodePool", name, {}, opts);
        this.agentPool = new containerservice.AgentPool(`${name}-pool`, gpuAgentPoolArgs(args), {
            parent: this,
            ignoreChanges: ["count"],
        });
        this.registerOutputs({ agentPoolName: this.agentPool.name });
    }
}
