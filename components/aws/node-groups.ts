import * as autoscaling from "@pulumi/aws/autoscaling";
import * as ec2 from "@pulumi/aws/ec2";
import * as eksApi from "@pulumi/aws/eks";
import * as iam from "@pulumi/aws/iam";
import * as pulumi from "@pulumi/pulumi";
import { AWS_GPU_FAMILIES, gpuFamilyOf } from "./instance-types";

export { GPU_NODE_LABELS, GPU_TAINT, SYSTEM_NODE_LABELS } from "../../contract/scheduling";

const EKS_TAINT_EFFECT = {
    NoSchedule: "NO_SCHEDULE",
    NoExecute: "NO_EXECUTE",
    PreferNoSchedule: "PREFER_NO_SCHEDULE",
} as const;
const EKS_CAPACITY_TYPE = { spot: "SPOT", "on-demand": "ON_DEMAND" } as const;

/** Worker node role shared by all managed node groups (EKS creates their access entries). */
export function createNodeRole(name: string, tags: Record<string, string>, parent: pulumi.Resource): iam.Role {
    const role = new iam.Role(
        `${name}-node-role`,
        {
            assumeRolePolicy: JSON.stringify({
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
            }),
            tags,
        },
        { parent },
    );
    const managed = {
        worker: "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
        cni: "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
        ecr: "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
        ssm: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    } as const;
    for (const [key, policyArn] of Object.entries(managed)) {
        new iam.RolePolicyAttachment(`${name}-node-${key}`, { role: role.name, policyArn }, { parent });
    }
    return role;
}

export interface ManagedNodeGroupArgs {
    readonly clusterName: pulumi.Input<string>;
    readonly nodeRoleArn: pulumi.Input<string>;
    readonly subnetIds: pulumi.Input<string>[];
    readonly instanceTypes: readonly string[];
    readonly capacityType: "spot" | "on-demand";
    readonly amiType: string;
    readonly minSize: number;
    readonly maxSize: number;
    readonly desiredSize: number;
    readonly diskSizeGiB: number;
    readonly labels: Record<string, string>;
    readonly taints: readonly { key: string; value: string; effect: keyof typeof EKS_TAINT_EFFECT }[];
    readonly tags: Record<string, string>;
}

/**
 * Instance metadata of every node: IMDSv2 only, and a hop limit of 1, so a packet from a pod (one hop more, through
 * the pod's network namespace) never reaches it: pods cannot take the node role's credentials, even where a
 * NetworkPolicy is missing.
 */
export const NODE_METADATA_OPTIONS = {
    httpEndpoint: "enabled",
    httpTokens: "required",
    httpPutResponseHopLimit: 1,
} as const;

/** Root device of the EKS-optimized AL2023 images (standard and NVIDIA). */
const ROOT_DEVICE = "/dev/xvda";

/**
 * An EKS managed node group whose size the cluster autoscaler owns: `desiredSize` is ignored after creation so
 * `pulumi preview` stays clean while the autoscaler scales it. Scale-from-zero hints (labels, taints) are also
 * written as tags on the node group's Auto Scaling group, which the autoscaler reads when no node exists yet.
 */
export class ManagedNodeGroup extends pulumi.ComponentResource {
    readonly nodeGroupName: pulumi.Output<string>;
    readonly nodeGroup: eksApi.NodeGroup;

    constructor(name: string, args: ManagedNodeGroupArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlops-testbed:aws:ManagedNodeGroup", name, {}, opts);
        // A launch template only for what the node group itself cannot set: metadata options, and so the root
        // volume (a node group with a launch template takes its disk from the template).
        const template = new ec2.LaunchTemplate(
            `${name}-lt`,
            {
                description: "Node metadata options (IMDSv2, hop limit 1) and encrypted gp3 root volume",
                metadataOptions: { ...NODE_METADATA_OPTIONS },
                blockDeviceMappings: [
                    {
                        deviceName: ROOT_DEVICE,
                        ebs: {
                            volumeSize: args.diskSizeGiB,
                            volumeType: "gp3",
                            encrypted: "true",
                            deleteOnTermination: "true",
                        },
                    },
                ],
            },
            { parent: this },
        );
        this.nodeGroup = new eksApi.NodeGroup(
            `${name}-ng`,
            {
                clusterName: args.clusterName,
                nodeRoleArn: args.nodeRoleArn,
                subnetIds: args.subnetIds,
                instanceTypes: [...args.instanceTypes],
                capacityType: EKS_CAPACITY_TYPE[args.capacityType],
                amiType: args.amiType,
                launchTemplate: { id: template.id, version: template.latestVersion.apply(String) },
                scalingConfig: { minSize: args.minSize, maxSize: args.maxSize, desiredSize: args.desiredSize },
                updateConfig: { maxUnavailable: 1 },
                labels: args.labels,
                taints: args.taints.map((t) => ({ key: t.key, value: t.value, effect: EKS_TAINT_EFFECT[t.effect] })),
                tags: args.tags,
            },
            { parent: this, ignoreChanges: ["scalingConfig.desiredSize"] },
        );

        const asgName = this.nodeGroup.resources.apply((r) => r?.[0]?.autoscalingGroups?.[0]?.name ?? "");
        const hints: Record<string, string> = {};
        for (const [k, v] of Object.entries(args.labels))
            hints[`k8s.io/cluster-autoscaler/node-template/label/${k}`] = v;
        for (const t of args.taints)
            hints[`k8s.io/cluster-autoscaler/node-template/taint/${t.key}`] = `${t.value}:${t.effect}`;
        Object.entries(hints).forEach(([key, value], i) => {
            new autoscaling.Tag(
                `${name}-asg-hint-${i}`,
                {
                    autoscalingGroupName: asgName,
                    tag: { key, value, propagateAtLaunch: false },
                },
                { parent: this },
            );
        });
        this.nodeGroupName = this.nodeGroup.nodeGroupName;
        this.registerOutputs({ nodeGroupName: this.nodeGroupName });
    }
}

/** EKS AMI type for a GPU pool; config validation guarantees a single known architecture. */
export function gpuAmiType(instanceTypes: readonly string[]): string {
    const family = gpuFamilyOf(instanceTypes[0]);
    if (!family) throw new Error(`${instanceTypes[0]} is not a known GPU instance type`);
    return AWS_GPU_FAMILIES[family].amiType;
}
