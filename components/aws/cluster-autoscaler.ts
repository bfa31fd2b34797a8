import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS, CLUSTER_AUTOSCALER_IMAGE_TAGS } from "../../contract/versions";
import type { Scheduling } from "../../contract/platform";
import type { PolicyStatement } from "./iam-policy";
import { IRSA_ROLE_ARN_ANNOTATION, IrsaRole } from "./workload-identity";

export const CLUSTER_AUTOSCALER_SERVICE_ACCOUNT = { namespace: "kube-system", name: "cluster-autoscaler" } as const;

/**
 * What cluster-autoscaler needs in AWS: read the groups, templates and managed node groups (for scale from
 * zero), and change the size only of groups tagged as owned by this cluster.
 */
export function clusterAutoscalerStatements(clusterName: string): PolicyStatement[] {
    return [
        {
            Sid: "Describe",
            Effect: "Allow",
            Action: [
                "autoscaling:DescribeAutoScalingGroups",
                "autoscaling:DescribeAutoScalingInstances",
                "autoscaling:DescribeLaunchConfigurations",
                "autoscaling:DescribeScalingActivities",
                "autoscaling:DescribeTags",
                "ec2:DescribeImages",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplateVersions",
                "ec2:GetInstanceTypesFromInstanceRequirements",
                "eks:DescribeNodegroup",
            ],
            Resource: "*",
        },
        {
            Sid: "ScaleOwnedGroups",
            Effect: "Allow",
            Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
            Resource: "*",
            Condition: { StringEquals: { [`aws:ResourceTag/k8s.io/cluster-autoscaler/${clusterName}`]: "owned" } },
        },
    ];
}

export interface ClusterAutoscalerArgs {
    readonly clusterName: string;
    readonly region: string;
    readonly kubernetesVersion: string;
    readonly oidcProviderArn: pulumi.Input<string>;
    readonly oidcIssuer: pulumi.Input<string>;
    readonly scaleDownUnneededMinutes: number;
    readonly systemScheduling: Scheduling;
    readonly tags: Record<string, string>;
}

export function clusterAutoscalerValues(args: ClusterAutoscalerArgs, roleArn: pulumi.Input<string>) {
    const tag = CLUSTER_AUTOSCALER_IMAGE_TAGS[args.kubernetesVersion];
    // Config validation refuses versions outside the table; this guards other callers.
    if (!tag) throw new Error(`no cluster-autoscaler image is pinned for Kubernetes ${args.kubernetesVersion}`);
    return {
        cloudProvider: "aws",
        awsRegion: args.region,
        autoDiscovery: { clusterName: args.clusterName },
        image: { tag },
        rbac: {
            serviceAccount: {
                create: true,
                name: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT.name,
                annotations: { [IRSA_ROLE_ARN_ANNOTATION]: roleArn },
            },
        },
        extraArgs: {
            "scale-down-unneeded-time": `${args.scaleDownUnneededMinutes}m`,
            "scale-down-delay-after-add": "5m",
            expander: "least-waste",
            "balance-similar-node-groups": true,
            "skip-nodes-with-system-pods": false,
        },
        nodeSelector: args.systemScheduling.nodeSelector,
        tolerations: args.systemScheduling.tolerations,
        priorityClassName: "system-cluster-critical",
        resources: { requests: { cpu: "100m", memory: "300Mi" }, limits: { memory: "600Mi" } },
    };
}

/**
 * cluster-autoscaler with auto-discovery of the cluster's managed node groups. Chosen over Karpenter because it
 * scales the managed node groups this program already declares (one place for instance types, taints and
 * labels), needs no extra CRDs or interruption queue, and scales GPU groups from zero using the node-group
 * description and the ASG template tags.
 */
export class ClusterAutoscaler extends pulumi.ComponentResource {
    readonly roleArn: pulumi.Output<string>;

    constructor(name: string, args: ClusterAutoscalerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlops-testbed:aws:ClusterAutoscaler", name, {}, opts);
        const role = new IrsaRole(
            `${name}-identity`,
            {
                namespace: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT.namespace,
                serviceAccount: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT.name,
                oidcProviderArn: args.oidcProviderArn,
                oidcIssuer: args.oidcIssuer,
                statements: clusterAutoscalerStatements(args.clusterName),
                tags: args.tags,
            },
            { parent: this },
        );
        const chart = CHARTS.clusterAutoscaler;
        new k8s.helm.v3.Release(
            `${name}-release`,
            {
                name: "cluster-autoscaler",
                chart: chart.chart,
                version: chart.version,
                repositoryOpts: { repo: chart.repo },
                namespace: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT.namespace,
                values: clusterAutoscalerValues(args, role.roleArn),
            },
            { parent: this },
        );
        this.roleArn = role.roleArn;
        this.registerOutputs({ roleArn: this.roleArn });
    }
}
