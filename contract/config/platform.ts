import { z } from "zod";
import { CLOUDS, REGISTRY_TLS_MODES } from "../clouds";
import { dnsLabel, ipv4Cidr, labelMap, wholeNumber } from "./common";
import { UNREADABLE_SECRET } from "./issues";

/** What an existing cluster needs for metrics-server (`existing.metricsServer`). */
export const METRICS_SERVER_MODES = ["install", "install-kubelet-insecure-tls", "present"] as const;

export const cloudSchema = z.enum(CLOUDS, { error: `must be one of ${CLOUDS.join(", ")}` });

/**
 * Who holds the keys that encrypt the stack's data at rest on AWS: `customer-managed` (a KMS key per role that the
 * stack creates, rotates and whose policy it controls: $1 a month each) or `aws-managed` (the account's AWS managed
 * keys aws/s3 and aws/ebs, and EKS's default envelope encryption of the Kubernetes API's data: no key to pay for,
 * but no key policy of the stack's own and no separate audit trail per stack).
 */
export const AWS_ENCRYPTION_KEYS = ["customer-managed", "aws-managed"] as const;
export type AwsEncryptionKeys = (typeof AWS_ENCRYPTION_KEYS)[number];

export const awsSchema = z.strictObject({
    /** AWS region every AWS resource is created in (explicit provider; no ambient region). */
    region: z
        .string({ error: "must be an AWS region such as eu-west-1" })
        .regex(/^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/, { error: "must be an AWS region such as eu-west-1" }),
    /**
     * Keys of the artifact buckets, the volumes and the cluster's Secrets: `customer-managed` (default) or
     * `aws-managed` (a disposable dev stack, where a key of its own buys nothing; see AWS_ENCRYPTION_KEYS).
     */
    encryptionKeys: z
        .enum(AWS_ENCRYPTION_KEYS, { error: `must be one of ${AWS_ENCRYPTION_KEYS.join(", ")}` })
        .default("customer-managed"),
});

export const ENDPOINT_ACCESS = ["private", "public-and-private", "public"] as const;
export const CONTROL_PLANE_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"] as const;

/** Capacity types of the system node group (listed separately from GPU pools' so the default reads first). */
export const SYSTEM_CAPACITY_TYPES = ["on-demand", "spot"] as const;

export const systemNodesSchema = z
    .strictObject({
        /** CPU instance types for the system node group (monitoring, Tekton, gateway, autoscaler). */
        instanceTypes: z
            .array(z.string().min(1))
            .min(1, { error: "needs at least one instance type" })
            .default(["m6i.large"]),
        minSize: wholeNumber("minSize", 1, 100).default(2),
        maxSize: wholeNumber("maxSize", 1, 100).default(4),
        desiredSize: wholeNumber("desiredSize", 1, 100).default(2),
        diskSizeGiB: wholeNumber("diskSizeGiB", 20, 16384).default(50),
        /**
         * `on-demand` (default) or `spot` (AWS only): spot system nodes cost about 60% less but can be reclaimed with
         * two minutes' notice; with spot the testbed adds an on-demand fallback group at size 0 that the autoscaler
         * uses when no spot capacity is to be had, and needs at least two instance types.
         */
        capacityType: z
            .enum(SYSTEM_CAPACITY_TYPES, { error: `must be one of ${SYSTEM_CAPACITY_TYPES.join(", ")}` })
            .default("on-demand"),
    })
    .superRefine((v, ctx) => {
        if (v.minSize > v.maxSize) {
            ctx.addIssue({
                code: "custom",
                path: ["maxSize"],
                message: `maxSize (${v.maxSize}) must be >= minSize (${v.minSize})`,
            });
        }
        if (v.desiredSize < v.minSize || v.desiredSize > v.maxSize) {
            ctx.addIssue({
                code: "custom",
                path: ["desiredSize"],
                message: `desiredSize (${v.desiredSize}) must lie between minSize (${v.minSize}) and maxSize (${v.maxSize})`,
            });
        }
    });

export const clusterSchema = z
    .strictObject({
        /** Kubernetes minor version of the control plane, e.g. "1.34". */
        kubernetesVersion: z
            .string({ error: 'must be a Kubernetes minor version string such as "1.34" (quote it in YAML)' })
            .regex(/^1\.(2[89]|3\d)$/, {
                error: 'must be a Kubernetes minor version from "1.28" to "1.39", quoted in YAML',
            })
            .default("1.34"),
        /** Where the Kubernetes API is reachable from. */
        endpointAccess: z
            .enum(ENDPOINT_ACCESS, { error: `must be one of ${ENDPOINT_ACCESS.join(", ")}` })
            .default("public-and-private"),
        /** CIDR blocks allowed to reach a public API endpoint. */
        publicAccessCidrs: z.array(ipv4Cidr).min(1, { error: "needs at least one CIDR block" }).default(["0.0.0.0/0"]),
        /** Control-plane log types sent to the cloud's log service. */
        logTypes: z
            .array(z.enum(CONTROL_PLANE_LOG_TYPES, { error: `must be one of ${CONTROL_PLANE_LOG_TYPES.join(", ")}` }))
            .default([...CONTROL_PLANE_LOG_TYPES]),
        /** IAM role (AWS) ARNs granted cluster-admin through access entries, e.g. the CI deploy role. */
        adminRoleArns: z
            .array(
                z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, {
                    error: "must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
                }),
            )
            .default([]),
        systemNodes: systemNodesSchema.default({
            instanceTypes: ["m6i.large"],
            minSize: 2,
            maxSize: 4,
            desiredSize: 2,
            diskSizeGiB: 50,
            capacityType: "on-demand",
        }),
        /** How long a node must be unneeded before the autoscaler removes it (minutes). */
        scaleDownUnneededMinutes: wholeNumber("scaleDownUnneededMinutes", 1, 1440).default(10),
    })
    .superRefine((v, ctx) => {
        if (v.endpointAccess === "private" && v.publicAccessCidrs.some((c) => c !== "0.0.0.0/0")) {
            ctx.addIssue({
                code: "custom",
                path: ["publicAccessCidrs"],
                message:
                    "publicAccessCidrs only applies when endpointAccess is public or public-and-private; remove it or change endpointAccess",
            });
        }
    });

export const NAT_GATEWAYS = ["single", "one-per-az"] as const;
/** What gives private subnets their way out (AWS): a managed NAT gateway, or a small NAT instance (cheaper, unmanaged). */
export const NAT_KINDS = ["gateway", "instance"] as const;

export const networkSchema = z.strictObject({
    /** CIDR block of the VPC / virtual network; subnets are carved from it. */
    cidr: ipv4Cidr
        .refine((c) => Number(c.split("/")[1]) <= 20, {
            error: "must be a /20 or larger block (e.g. 10.0.0.0/16) to hold the subnets",
        })
        .default("10.0.0.0/16"),
    /** Number of availability zones to spread subnets and nodes over. */
    availabilityZones: wholeNumber("availabilityZones", 2, 4).default(2),
    /** NAT for private subnets: one shared gateway (cheaper) or one per zone (survives a zone outage). */
    natGateways: z.enum(NAT_GATEWAYS, { error: `must be one of ${NAT_GATEWAYS.join(", ")}` }).default("single"),
    /**
     * AWS only. `gateway` (default): managed NAT gateways, which AWS keeps available and scales. `instance`: a
     * t4g.nano NAT instance in place of each gateway, about $31 a month less each, but a single instance with no
     * managed failover (when it stops, private nodes lose the internet until it is back): for dev stacks.
     */
    nat: z.enum(NAT_KINDS, { error: `must be one of ${NAT_KINDS.join(", ")}` }).default("gateway"),
});

export const CAPACITY_TYPES = ["spot", "on-demand"] as const;

export const gpuNodePoolSchema = z
    .strictObject({
        name: dnsLabel(32),
        /** GPU instance types (AWS) or VM sizes (Azure); several types widen spot capacity. */
        instanceTypes: z
            .array(z.string({ error: "must be an instance type name" }).min(1))
            .min(1, { error: "needs at least one instance type" }),
        capacityType: z.enum(CAPACITY_TYPES, { error: `must be one of ${CAPACITY_TYPES.join(", ")}` }),
        /** 0 lets the pool scale to zero when no GPU pod is pending. */
        minSize: wholeNumber("minSize", 0, 1000),
        maxSize: wholeNumber("maxSize", 1, 1000),
        diskSizeGiB: wholeNumber("diskSizeGiB", 20, 16384).default(100),
        /** Extra node labels (the pool name and GPU labels are always set). */
        labels: labelMap.default({}),
    })
    .superRefine((v, ctx) => {
        if (v.minSize > v.maxSize) {
            ctx.addIssue({
                code: "custom",
                path: ["maxSize"],
                message: `maxSize (${v.maxSize}) must be >= minSize (${v.minSize})`,
            });
        }
    });

export const gpuNodePoolsSchema = z
    .array(gpuNodePoolSchema)
    .max(20, { error: "at most 20 GPU node pools" })
    .default([])
    .superRefine((pools, ctx) => {
        const seen = new Set<string>();
        pools.forEach((p, i) => {
            if (seen.has(p.name))
                ctx.addIssue({
                    code: "custom",
                    path: [i, "name"],
                    message: `duplicate pool name "${p.name}"; names must be unique`,
                });
            seen.add(p.name);
        });
    });

export const STORE_PROTECTION = ["protected", "disposable"] as const;

export const artifactStoresSchema = z.strictObject({
    /**
     * `protected`: stores and the registry are protected and retained if the stack is destroyed (use in prod).
     * `disposable`: `pulumi destroy` deletes them with their contents (use in dev).
     */
    protection: z
        .enum(STORE_PROTECTION, { error: `must be one of ${STORE_PROTECTION.join(", ")}` })
        .default("protected"),
    /** Days an overwritten or deleted object version is kept before it expires. */
    noncurrentVersionDays: wholeNumber("noncurrentVersionDays", 1, 3650).default(30),
});

export const registrySchema = z.strictObject({
    /** How many tagged images to keep per repository; older ones expire. */
    keepImages: wholeNumber("keepImages", 1, 10000).default(100),
    /** Days after which untagged images expire. */
    untaggedDays: wholeNumber("untaggedDays", 1, 365).default(7),
});

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
export const AZURE_GPU_DRIVERS = ["Install", "None"] as const;

export const azureSchema = z.strictObject({
    /** Azure region (location) every Azure resource is created in, e.g. westeurope (explicit provider). */
    location: z.string({ error: "must be an Azure location such as westeurope" }).regex(/^[a-z][a-z0-9]+$/, {
        error: "must be an Azure location name such as westeurope or eastus2 (lowercase, no spaces)",
    }),
    /**
     * Microsoft Entra object ids (users, groups, service principals) granted "Azure Kubernetes Service RBAC
     * Cluster Admin" on the cluster. The identity running `pulumi up` always gets it.
     */
    adminPrincipalIds: z
        .array(z.string().regex(UUID, { error: "must be a Microsoft Entra object id (a GUID)" }))
        .default([]),
    /**
     * `Install`: AKS installs the NVIDIA driver on GPU nodes and the testbed installs the NVIDIA device plugin.
     * `None`: neither; bring the NVIDIA GPU Operator yourself.
     */
    gpuDriver: z
        .enum(AZURE_GPU_DRIVERS, { error: `must be one of ${AZURE_GPU_DRIVERS.join(", ")}` })
        .default("Install"),
});

export const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const;

export const nodeTaintSchema = z.strictObject({
    key: z.string().min(1, { error: "must be a taint key such as nvidia.com/gpu" }),
    value: z.string().default(""),
    effect: z.enum(TAINT_EFFECTS, { error: `must be one of ${TAINT_EFFECTS.join(", ")}` }),
});

export const STORE_KINDS = ["seaweedfs", "external"] as const;
export const ADDON_MODES = ["install", "present"] as const;

/** A Secret the cluster already has, by `<namespace>/<name>` or with the names of its two keys. */
export const credentialsSecretSchema = z.preprocess(
    (v) => {
        if (typeof v !== "string") return v;
        const [namespace, name, ...rest] = v.split("/");
        return rest.length === 0 && name !== undefined ? { namespace, name } : v;
    },
    z.strictObject(
        {
            namespace: dnsLabel(63),
            name: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, { error: "must be a Secret name" }),
            /** Key of the Secret holding the access key id. */
            accessKeyIdKey: z.string().min(1).default("AWS_ACCESS_KEY_ID"),
            /** Key of the Secret holding the secret access key. */
            secretAccessKeyKey: z.string().min(1).default("AWS_SECRET_ACCESS_KEY"),
        },
        {
            error: "must be <namespace>/<name> of a Secret with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or { namespace, name, accessKeyIdKey, secretAccessKeyKey }",
        },
    ),
);

/**
 * The existing cluster's artifact store. Fields other than `kind` belong to `external` only (checked with the other
 * existing-cluster rules, which name each key).
 */
export const storeSchema = z.strictObject({
    kind: z.enum(STORE_KINDS, { error: `must be one of ${STORE_KINDS.join(", ")}` }),
    /** URL of the S3 API, e.g. https://s3.example.com or http://minio.minio.svc.cluster.local:9000 (path-style). */
    endpoint: z
        .string({ error: "must be the URL of the S3 API, e.g. https://s3.example.com" })
        .regex(/^https?:\/\/[A-Za-z0-9.-]+(:\d+)?\/?$/, {
            error: "must be an http(s) URL of the S3 API without a path, e.g. https://s3.example.com or http://10.0.0.5:9000",
        })
        .optional(),
    /** Region the endpoint signs for (most S3-compatible stores accept us-east-1). */
    region: z
        .string()
        .regex(/^[a-z0-9-]+$/, { error: "must be a region name such as us-east-1" })
        .optional(),
    /** The two buckets, which must exist (versioning on is recommended); the testbed never creates or deletes them. */
    buckets: z
        .strictObject({
            models: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: "must be an S3 bucket name" }),
            datasets: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: "must be an S3 bucket name" }),
        })
        .optional(),
    /** The Secret with the store's keys, copied into each namespace whose workloads use the store. */
    credentialsSecret: credentialsSecretSchema.optional(),
    /**
     * Where pods reach the endpoint, for their egress NetworkPolicies: address blocks, or pods inside the cluster.
     * Unset: the endpoint's address when it is an IP, else public addresses (never private ranges) on its port.
     */
    egress: z
        .strictObject({
            cidrs: z.array(ipv4Cidr).min(1, { error: "needs at least one CIDR block" }).optional(),
            namespace: dnsLabel(63).optional(),
            podLabels: labelMap.optional(),
        })
        .optional(),
});

const addon = <T extends z.ZodRawShape>(presentFields: T) =>
    z.strictObject({
        mode: z.enum(ADDON_MODES, { error: `must be one of ${ADDON_MODES.join(", ")}` }),
        ...presentFields,
    });

/**
 * Add-ons the cluster may already run. `install` (default): the testbed installs its pinned release. `present`: the
 * cluster has it, and the testbed uses it as described (fields other than `mode` belong to `present` only).
 */
export const addonsSchema = z.strictObject({
    /** The Prometheus Operator stack (Prometheus, Alertmanager; Grafana optional) in namespace `monitoring`. */
    monitoring: addon({
        /** Name of the Prometheus resource (monitoring.coreos.com/v1) the testbed's rules and monitors feed. */
        prometheus: dnsLabel(63).optional(),
        /** Name of the Alertmanager resource that routes the retrain alerts. */
        alertmanager: dnsLabel(63).optional(),
    }).default({ mode: "install" }),
    /** Envoy Gateway (the Gateway API implementation the model and webhook gateways use). */
    gateway: addon({
        /** The GatewayClass, served by Envoy Gateway, that the testbed's Gateways ask for. */
        gatewayClassName: dnsLabel(253).optional(),
    }).default({ mode: "install" }),
    /** Tekton Pipelines and Triggers (with the core interceptors). */
    tekton: addon({
        /** Namespace of the Pipelines controller (tekton-pipelines; openshift-pipelines on OpenShift). */
        namespace: dnsLabel(63).optional(),
    }).default({ mode: "install" }),
});

export const existingSchema = z.strictObject({
    /**
     * Repository model-server images are pushed to (by a build pod) and pulled from (by the nodes), e.g.
     * registry.example.com/mlops/model-server, or kind's local registry at its in-cluster address,
     * kind-registry:5000/model-server. Never localhost or a loopback address: inside a pod that is the pod.
     */
    imageRegistry: z
        .string({
            error: "is required: the image repository model-server images are pushed to, e.g. registry.example.com/mlops/model-server",
        })
        .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d+)?(\/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)+$/, {
            error: "must be an image repository without tag, e.g. registry.example.com/mlops/model-server or kind-registry:5000/model-server",
        })
        .refine((repo) => !/^(localhost|127\.\d+\.\d+\.\d+)(:\d+)?\//.test(repo), {
            error: "is a loopback address, which in the build pod is the pod itself: give the registry's address as pods and nodes reach it (kind's local registry: kind-registry:5000/model-server, with registryTls: http)",
        }),
    /** Display name of the cluster in the outputs (the kubeconfig's own names are not parsed). */
    clusterName: dnsLabel(63).default("existing"),
    /** Where GPU workloads go on this cluster: the label every GPU node carries and the taints GPU nodes have. */
    gpu: z
        .strictObject({
            nodeLabel: z
                .strictObject({ key: z.string().min(1), value: z.string() })
                .default({ key: "nvidia.com/gpu.present", value: "true" }),
            taints: z.array(nodeTaintSchema).default([{ key: "nvidia.com/gpu", value: "true", effect: "NoSchedule" }]),
            /** Install the NVIDIA device plugin (false when the GPU Operator or the distribution already runs one). */
            installDevicePlugin: z.boolean({ error: "must be true or false" }).default(true),
        })
        .default({
            nodeLabel: { key: "nvidia.com/gpu.present", value: "true" },
            taints: [{ key: "nvidia.com/gpu", value: "true", effect: "NoSchedule" }],
            installDevicePlugin: true,
        }),
    /** Node labels system workloads (monitoring, Tekton, the store) are pinned to; {} schedules them anywhere. */
    systemNodeSelector: labelMap.default({}),
    /**
     * StorageClass of every volume the testbed claims (the store, Prometheus, Alertmanager, the runs' workspaces);
     * unset uses the cluster's default class.
     */
    storageClass: dnsLabel(253).optional(),
    /**
     * How the build step pushes to `imageRegistry`: verify (HTTPS, verified), skip-verify (HTTPS, self-signed or
     * private CA) or http (plain HTTP, e.g. kind's local registry).
     */
    registryTls: z
        .enum(REGISTRY_TLS_MODES, { error: `must be one of ${REGISTRY_TLS_MODES.join(", ")}` })
        .default("verify"),
    /**
     * metrics-server, which the model servers' HPAs need: install (the pinned chart), install-kubelet-insecure-tls
     * (kind and other clusters whose kubelets serve self-signed certificates), or present (the cluster runs one).
     */
    metricsServer: z
        .enum(METRICS_SERVER_MODES, { error: `must be one of ${METRICS_SERVER_MODES.join(", ")}` })
        .default("install"),
    /** Size of the in-cluster store's data volume (SeaweedFS only). */
    storeSize: z
        .string()
        .regex(/^[0-9]+(Mi|Gi|Ti)$/, { error: "must be a size such as 50Gi" })
        .default("50Gi"),
    /**
     * The artifact store: `seaweedfs` (default; the testbed installs it in the cluster) or `external`, an
     * S3-compatible endpoint you run (MinIO, Ceph RGW, a cloud's S3 API...), with its buckets and credentials.
     */
    store: storeSchema.default({ kind: "seaweedfs" }),
    /** Cluster add-ons the testbed installs, or finds already running (`present`); see docs on what present expects. */
    addons: addonsSchema.default({
        monitoring: { mode: "install" },
        gateway: { mode: "install" },
        tekton: { mode: "install" },
    }),
});

/**
 * The kubeconfig of an existing cluster (top-level key `kubeconfig`). It must be a secret config value
 * (`pulumi config set --secret kubeconfig < ~/.kube/config`); the validated config only records that it is
 * set, and the platform reads the value itself as a secret.
 */
export const kubeconfigSchema = z
    .string({
        error: "must be the kubeconfig text, set with: pulumi config set --secret kubeconfig < path/to/kubeconfig",
    })
    .min(1, { error: "is empty; set it with: pulumi config set --secret kubeconfig < path/to/kubeconfig" })
    .transform(() => "[secret]" as const);

/**
 * The keys of an existing cluster's external store (top-level key `storeCredentials`), when no Secret in the cluster
 * holds them: a secret config value, `pulumi config set --secret storeCredentials '{"accessKeyId": ..., "secretAccessKey":
 * ...}'`. The validated config only records that it is set; the platform reads the value itself as a secret.
 */
export const storeCredentialsSchema = z
    .preprocess(
        // Offline the encrypted value cannot be read: its shape is checked where it can (`pulumi up`).
        (v) => (v === UNREADABLE_SECRET ? { accessKeyId: v, secretAccessKey: v } : v),
        z.strictObject(
            {
                accessKeyId: z.string({ error: "must be the store's access key id" }).min(1),
                secretAccessKey: z.string({ error: "must be the store's secret access key" }).min(1),
            },
            { error: 'must be {"accessKeyId": "...", "secretAccessKey": "..."}' },
        ),
    )
    .transform(() => UNREADABLE_SECRET);

export type AwsConfig = z.infer<typeof awsSchema>;
export type AzureConfig = z.infer<typeof azureSchema>;
export type ExistingConfig = z.infer<typeof existingSchema>;
export type ClusterConfig = z.infer<typeof clusterSchema>;
export type NetworkConfig = z.infer<typeof networkSchema>;
export type GpuNodePoolConfig = z.infer<typeof gpuNodePoolSchema>;
export type ArtifactStoresConfig = z.infer<typeof artifactStoresSchema>;
export type RegistryConfig = z.infer<typeof registrySchema>;

/** The slice of the validated config the AWS platform is built from: its own section and the sections it reads. */
export interface AwsPlatformConfig {
    readonly aws: AwsConfig;
    readonly cluster: ClusterConfig;
    readonly network: NetworkConfig;
    readonly gpuNodePools: readonly GpuNodePoolConfig[];
    readonly artifactStores: ArtifactStoresConfig;
    readonly registry: RegistryConfig;
}

/** The slice of the validated config the Azure platform is built from. */
export interface AzurePlatformConfig {
    readonly azure: AzureConfig;
    readonly cluster: ClusterConfig;
    readonly network: NetworkConfig;
    readonly gpuNodePools: readonly GpuNodePoolConfig[];
    readonly artifactStores: ArtifactStoresConfig;
    readonly registry: RegistryConfig;
}

/** The slice of the validated config the existing-cluster platform is built from (the kubeconfig is read as a secret). */
export interface ExistingPlatformConfig {
    readonly existing: ExistingConfig;
    readonly artifactStores: ArtifactStoresConfig;
}
