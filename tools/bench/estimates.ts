/**
 * How long `pulumi up` takes to create one resource of each type, in seconds: a low, a typical and a high
 * figure, each with where it comes from. The critical-path estimate runs the plan's dependency graph once per
 * figure. These are create times as the provider experiences them (API call plus the provider's own wait for
 * the resource to become usable), not billing or boot times.
 *
 * Sources, referred to by key in the table:
 * - eks-guide: Amazon EKS User Guide, "Create an Amazon EKS cluster" and "Create a managed node group"
 *   (https://docs.aws.amazon.com/eks/latest/userguide/create-cluster.html, .../create-managed-node-group.html):
 *   cluster provisioning takes several minutes (commonly 9-12 in practice); node groups a few minutes.
 * - pulumi-eks: @pulumi/eks examples and issue threads: `eks.Cluster` (control plane, OIDC provider, security
 *   groups, access entries) typically 10-12 minutes end to end.
 * - tf-timeouts: default create timeouts and waiters in terraform-provider-aws, which pulumi-aws wraps
 *   (NAT gateway waits for `available`, 1-2 min observed; node group waits for ACTIVE, 3-5 min observed; an EC2
 *   instance waits for `running`, which a small instance reaches in well under a minute, before its boot script).
 * - helm-await: Pulumi `kubernetes:helm.sh/v3:Release` waits for every object of the release to be ready
 *   (Deployments rolled out, DaemonSets scheduled); charts of this size settle in 1-3 minutes.
 * - k8s-await: Pulumi Kubernetes await logic (https://www.pulumi.com/registry/packages/kubernetes/how-to-guides/
 *   ... "await logic"): plain objects are ready on creation; Deployments and StatefulSets wait for rollout.
 * - api-call: a single control-plane API call with no waiter (IAM, S3 sub-resources, ECR, KMS, tags): seconds.
 * - local: computed by the provider without a cloud call (random, providers): about zero.
 * - aks-guide: Azure AKS documentation and `az aks create` / `az aks nodepool add` in practice: a cluster
 *   takes 5-10 minutes, a node pool 3-6; Azure Resource Manager long-running operations for the rest
 *   (storage account and registry provisioning tens of seconds, role assignments and identities seconds).
 * - sqs: SQS CreateQueue returns at once, but the provider waits for the queue's attributes to propagate.
 * - image-build: a Job that builds and pushes an image with buildah (the step runtime, built at install time):
 *   fetching both platforms' wheels from PyPI took 67 s on this machine (docs/benchmarks.md, "Package installs out
 *   of the lead time"); two COPY-only builds with the vfs driver and the push of about 1 GB per platform could not
 *   be measured here (no container engine) and are assumed at 1.5-13 minutes.
 */

import { IMAGES } from "../../contract/versions";

export interface CreateTimeEstimate {
    /** Seconds, optimistic. */
    readonly low: number;
    /** Seconds, what to expect. */
    readonly typical: number;
    /** Seconds, a slow but normal day. */
    readonly high: number;
    /** Key of the source in this file's header. */
    readonly source:
        | "eks-guide"
        | "pulumi-eks"
        | "tf-timeouts"
        | "helm-await"
        | "k8s-await"
        | "api-call"
        | "local"
        | "aks-guide"
        | "sqs"
        | "image-build";
}

export const ESTIMATE_PROFILES = ["low", "typical", "high"] as const;
export type EstimateProfile = (typeof ESTIMATE_PROFILES)[number];

/** Create time by exact resource type token. */
export const CREATE_TIME_ESTIMATES = {
    // EKS: the long poles.
    "eks:index:Cluster": { low: 540, typical: 600, high: 900, source: "pulumi-eks" },
    "aws:eks/cluster:Cluster": { low: 480, typical: 570, high: 840, source: "eks-guide" },
    "aws:eks/nodeGroup:NodeGroup": { low: 180, typical: 240, high: 300, source: "eks-guide" },
    "aws:eks/addon:Addon": { low: 30, typical: 60, high: 120, source: "tf-timeouts" },
    "aws:eks/accessEntry:AccessEntry": { low: 1, typical: 2, high: 5, source: "api-call" },
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": { low: 1, typical: 2, high: 5, source: "api-call" },
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": { low: 1, typical: 3, high: 5, source: "api-call" },
    // Network.
    "aws:ec2/natGateway:NatGateway": { low: 60, typical: 90, high: 120, source: "tf-timeouts" },
    "aws:ec2/vpc:Vpc": { low: 2, typical: 3, high: 5, source: "tf-timeouts" },
    "aws:ec2/subnet:Subnet": { low: 1, typical: 2, high: 5, source: "tf-timeouts" },
    "aws:ec2/internetGateway:InternetGateway": { low: 1, typical: 2, high: 5, source: "tf-timeouts" },
    "aws:ec2/eip:Eip": { low: 1, typical: 2, high: 3, source: "api-call" },
    "aws:ec2/eipAssociation:EipAssociation": { low: 1, typical: 2, high: 3, source: "api-call" },
    "aws:ec2/instance:Instance": { low: 15, typical: 30, high: 60, source: "tf-timeouts" },
    "aws:ec2/routeTable:RouteTable": { low: 1, typical: 2, high: 5, source: "tf-timeouts" },
    "aws:ec2/routeTableAssociation:RouteTableAssociation": { low: 1, typical: 1, high: 3, source: "api-call" },
    "aws:ec2/securityGroup:SecurityGroup": { low: 1, typical: 2, high: 5, source: "api-call" },
    "aws:ec2/vpcEndpoint:VpcEndpoint": { low: 30, typical: 60, high: 120, source: "tf-timeouts" },
    "aws:ec2/launchTemplate:LaunchTemplate": { low: 1, typical: 2, high: 5, source: "api-call" },
    // Identity, keys, storage, registry.
    "aws:iam/role:Role": { low: 1, typical: 2, high: 5, source: "api-call" },
    "aws:iam/rolePolicy:RolePolicy": { low: 1, typical: 1, high: 3, source: "api-call" },
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": { low: 1, typical: 1, high: 3, source: "api-call" },
    "aws:iam/policy:Policy": { low: 1, typical: 1, high: 3, source: "api-call" },
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": { low: 1, typical: 1, high: 3, source: "api-call" },
    "aws:kms/key:Key": { low: 2, typical: 5, high: 15, source: "tf-timeouts" },
    "aws:kms/alias:Alias": { low: 1, typical: 1, high: 3, source: "api-call" },
    "aws:s3/bucket:Bucket": { low: 2, typical: 3, high: 10, source: "tf-timeouts" },
    "aws:ecr/repository:Repository": { low: 1, typical: 1, high: 3, source: "api-call" },
    "aws:autoscaling/tag:Tag": { low: 1, typical: 1, high: 2, source: "api-call" },
    "aws:sqs/queue:Queue": { low: 2, typical: 25, high: 60, source: "sqs" },
    "aws:sqs/queuePolicy:QueuePolicy": { low: 1, typical: 2, high: 5, source: "api-call" },
    // Azure.
    "azure-native:containerservice:ManagedCluster": { low: 300, typical: 420, high: 720, source: "aks-guide" },
    "azure-native:containerservice:AgentPool": { low: 180, typical: 240, high: 420, source: "aks-guide" },
    "azure-native:storage:StorageAccount": { low: 15, typical: 25, high: 60, source: "aks-guide" },
    "azure-native:containerregistry:Registry": { low: 15, typical: 30, high: 90, source: "aks-guide" },
    "azure-native:network:VirtualNetwork": { low: 5, typical: 10, high: 20, source: "aks-guide" },
    "azure-native:network:Subnet": { low: 3, typical: 5, high: 15, source: "aks-guide" },
    "azure-native:resources:ResourceGroup": { low: 1, typical: 2, high: 5, source: "aks-guide" },
    // Kubernetes.
    "kubernetes:helm.sh/v3:Release": { low: 60, typical: 90, high: 180, source: "helm-await" },
    "kubernetes:helm.sh/v4:Chart": { low: 60, typical: 90, high: 180, source: "helm-await" },
    "kubernetes:yaml/v2:ConfigFile": { low: 30, typical: 60, high: 120, source: "k8s-await" },
    "kubernetes:yaml/v2:ConfigGroup": { low: 30, typical: 60, high: 120, source: "k8s-await" },
    "kubernetes:apps/v1:Deployment": { low: 20, typical: 45, high: 120, source: "k8s-await" },
    "kubernetes:apps/v1:StatefulSet": { low: 30, typical: 90, high: 180, source: "k8s-await" },
    "kubernetes:apps/v1:DaemonSet": { low: 10, typical: 30, high: 90, source: "k8s-await" },
    "kubernetes:batch/v1:Job": { low: 10, typical: 30, high: 120, source: "k8s-await" },
    "kubernetes:batch/v1:Job#image-build": { low: 150, typical: 420, high: 900, source: "image-build" },
    "kubernetes:core/v1:PersistentVolumeClaim": { low: 5, typical: 15, high: 60, source: "k8s-await" },
    "kubernetes:core/v1:Service#LoadBalancer": { low: 60, typical: 120, high: 240, source: "k8s-await" },
} as const satisfies Record<string, CreateTimeEstimate>;

/** Fallbacks by type prefix, first match wins; anything else takes DEFAULT_ESTIMATE and is reported. */
export const PREFIX_ESTIMATES = [
    ["pulumi:providers:", { low: 0, typical: 0, high: 0, source: "local" }],
    ["random:", { low: 0, typical: 0, high: 0, source: "local" }],
    ["tls:", { low: 0, typical: 0, high: 0, source: "local" }],
    ["aws:s3/", { low: 1, typical: 2, high: 5, source: "api-call" }],
    ["aws:ecr/", { low: 1, typical: 1, high: 3, source: "api-call" }],
    ["aws:iam/", { low: 1, typical: 1, high: 3, source: "api-call" }],
    ["aws:cloudwatch/", { low: 1, typical: 1, high: 3, source: "api-call" }],
    ["kubernetes:", { low: 1, typical: 1, high: 3, source: "k8s-await" }],
    ["azure-native:authorization:", { low: 2, typical: 5, high: 15, source: "aks-guide" }],
    ["azure-native:managedidentity:", { low: 1, typical: 3, high: 10, source: "aks-guide" }],
    ["azure-native:storage:", { low: 1, typical: 3, high: 10, source: "aks-guide" }],
    ["azure-native:keyvault:", { low: 5, typical: 15, high: 40, source: "aks-guide" }],
    ["azure-native:operationalinsights:", { low: 10, typical: 30, high: 60, source: "aks-guide" }],
    ["azure-native:insights:", { low: 2, typical: 5, high: 15, source: "aks-guide" }],
    ["azure-native:monitor:", { low: 2, typical: 5, high: 15, source: "aks-guide" }],
    ["azure-native:eventgrid:", { low: 10, typical: 30, high: 90, source: "aks-guide" }],
] as const satisfies readonly (readonly [string, CreateTimeEstimate])[];

export const DEFAULT_ESTIMATE: CreateTimeEstimate = { low: 2, typical: 5, high: 15, source: "api-call" };

/** What the estimator needs of a planned resource. */
export interface EstimatedResource {
    readonly type: string;
    readonly custom: boolean;
    readonly inputs?: Readonly<Record<string, unknown>>;
}

/**
 * The table key for a resource: the type, `<type>#LoadBalancer` for Services that provision a load balancer, or
 * `<type>#image-build` for a Job whose pod runs buildah.
 */
export function estimateKey(r: EstimatedResource): string {
    if (r.type === "kubernetes:core/v1:Service") {
        const spec = r.inputs?.["spec"] as { type?: unknown } | undefined;
        if (spec?.type === "LoadBalancer") return `${r.type}#LoadBalancer`;
    }
    if (r.type === "kubernetes:batch/v1:Job") {
        const pod = (r.inputs?.["spec"] as { template?: { spec?: { containers?: { image?: unknown }[] } } } | undefined)
            ?.template?.spec;
        if (pod?.containers?.some((c) => c.image === IMAGES.buildah)) return `${r.type}#image-build`;
    }
    return r.type;
}

/**
 * Create-time estimate of a resource, and whether it came from the default (an unknown type). Local
 * components take no time of their own (they finish when their children do); remote components such as
 * `eks:index:Cluster`, whose children the plan cannot see, are in the table.
 */
export function estimateFor(r: EstimatedResource): { estimate: CreateTimeEstimate; known: boolean } {
    const key = estimateKey(r);
    const exact = (CREATE_TIME_ESTIMATES as Record<string, CreateTimeEstimate>)[key];
    if (exact) return { estimate: exact, known: true };
    if (!r.custom) return { estimate: { low: 0, typical: 0, high: 0, source: "local" }, known: true };
    for (const [prefix, estimate] of PREFIX_ESTIMATES) if (key.startsWith(prefix)) return { estimate, known: true };
    return { estimate: DEFAULT_ESTIMATE, known: false };
}
