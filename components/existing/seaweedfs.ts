import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { stringify } from "yaml";
import { CHARTS } from "../../contract/versions";
import type { AccessMode, StoreGrant, StoreName } from "../../contract/platform";
import { STORE_NAMESPACE } from "../../contract/names";
import { statefulOptions, type StoreProtection } from "../../contract/stateful";

/** Where the in-cluster store runs and how it is reached. */
export const STORE_RELEASE = "seaweedfs";
export const STORE_S3_PORT = 8333;
export const STORE_S3_POD_LABELS = {
    "app.kubernetes.io/name": "seaweedfs",
    "app.kubernetes.io/component": "s3",
} as const;
export const STORE_FILER_POD_LABELS = {
    "app.kubernetes.io/name": "seaweedfs",
    "app.kubernetes.io/component": "filer",
} as const;
/** The filer's HTTP port (the chart's default); its gRPC port, which metadata subscribers use, is 10000 above. */
export const STORE_FILER_PORT = 8888;
export const STORE_FILER_GRPC_PORT = STORE_FILER_PORT + 10000;
/** The filer's address as `weed` clients take it (the chart's filer Service). */
export const STORE_FILER_ADDRESS = `${STORE_RELEASE}-filer.${STORE_NAMESPACE}.svc.cluster.local:${STORE_FILER_PORT}`;
/** Where the S3 gateway keeps its buckets on the filer. */
export const STORE_BUCKETS_PATH = "/buckets";
export const STORE_ENDPOINT = `http://${STORE_RELEASE}-s3.${STORE_NAMESPACE}.svc.cluster.local:${STORE_S3_PORT}`;
/** Secret (in the store namespace) holding the S3 gateway's static identities; the chart reads it by this key. */
export const STORE_CONFIG_SECRET = "seaweedfs-s3-config";
export const STORE_CONFIG_KEY = "seaweedfs_s3_config";
/** The buckets every platform offers. */
export const STORE_BUCKETS: readonly StoreName[] = ["models", "datasets"];

/**
 * SeaweedFS identity actions for a grant. SeaweedFS matches `Action:bucket/key` against each action, with `*`
 * as a wildcard, so a prefix grant is `Read:models/iris/v1/*`; a whole-bucket grant is `Read:models`.
 * Limitation: SeaweedFS's `Write` also allows deleting, so write grants cannot exclude deletes as they do on
 * AWS and Azure (bucket versioning still keeps every overwritten or deleted version).
 */
export function seaweedfsActions(grants: readonly StoreGrant[]): string[] {
    const actionsFor: Record<AccessMode, string[]> = {
        read: ["Read", "List"],
        write: ["Write", "Tagging", "List"],
        "read-write": ["Read", "Write", "Tagging", "List"],
    };
    const out = new Set<string>();
    for (const g of grants) {
        if (g.prefix.startsWith("/") || (g.prefix !== "" && !g.prefix.endsWith("/")) || /[*?,\s]/.test(g.prefix)) {
            throw new Error(
                `store prefix "${g.prefix}" must be "" or end with "/", without a leading "/", commas, spaces or wildcards`,
            );
        }
        const target = g.prefix === "" ? g.store : `${g.store}/${g.prefix}*`;
        for (const a of actionsFor[g.access]) out.add(`${a}:${target}`);
    }
    return [...out];
}

/** A Helm multi-line string value (the chart templates `nodeSelector`/`tolerations` from strings). */
function yamlBlock(value: Record<string, string> | readonly unknown[]): string {
    const empty = Array.isArray(value) ? value.length === 0 : Object.keys(value).length === 0;
    return empty ? "" : stringify(value).trimEnd();
}

export interface SeaweedfsValuesArgs {
    /** StorageClass of the volumes; undefined uses the cluster default. */
    readonly storageClass?: string;
    /** Size of the volume server's data volume. */
    readonly storeSize: string;
    readonly nodeSelector: Record<string, string>;
}

/** Helm values of the store: one master, volume server, filer and S3 gateway, on volumes, with S3 auth on. */
export function seaweedfsValues(args: SeaweedfsValuesArgs) {
    const storageClass = args.storageClass ?? "";
    const nodeSelector = yamlBlock(args.nodeSelector);
    const pvc = (size: string) => ({ type: "persistentVolumeClaim", size, storageClass });
    return {
        master: { replicas: 1, data: pvc("1Gi"), logs: { type: "emptyDir" }, nodeSelector },
        volume: {
            replicas: 1,
            dataDirs: [
                { name: "data1", type: "persistentVolumeClaim", size: args.storeSize, storageClass, maxVolumes: 0 },
            ],
            nodeSelector,
        },
        filer: { replicas: 1, data: pvc("10Gi"), logs: { type: "emptyDir" }, nodeSelector },
        s3: {
            enabled: true,
            replicas: 1,
            port: STORE_S3_PORT,
            enableAuth: true,
            existingConfigSecret: STORE_CONFIG_SECRET,
            // The chart's post-install/post-upgrade hook creates a bucket only if it is missing, then sets its
            // versioning status: idempotent on every upgrade.
            createBuckets: STORE_BUCKETS.map((name) => ({ name, versioning: "Enabled" })),
            logs: { type: "emptyDir" },
            nodeSelector,
        },
    };
}

export interface SeaweedfsStoreArgs extends SeaweedfsValuesArgs {
    /** `protected`: the store's namespace (with its volumes) and release are protected and retained on destroy. */
    readonly protection: StoreProtection;
}

/**
 * SeaweedFS in the cluster as the S3-compatible artifact store, with the `models` and `datasets` buckets
 * versioned. S3 authentication is always on: a generated admin identity is always present in the static
 * config (without any identity the gateway would allow anonymous access); workloads get their own identities
 * from StoreIdentity.
 */
export class SeaweedfsStore extends pulumi.ComponentResource {
    readonly release: k8s.helm.v3.Release;
    readonly namespace: k8s.core.v1.Namespace;

    constructor(name: string, args: SeaweedfsStoreArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlops-testbed:existing:SeaweedfsStore", name, {}, opts);
        const parent = { parent: this };
        // Deleting the namespace would delete the volumes' claims with it: it is as stateful as the release.
        this.namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            {
                metadata: {
                    name: STORE_NAMESPACE,
                    labels: {
                        "app.kubernetes.io/part-of": "mlops-testbed",
                        "pod-security.kubernetes.io/enforce": "baseline",
                    },
                },
            },
            statefulOptions(args.protection, this),
        );
        const accessKey = new random.RandomPassword(
            `${name}-admin-access-key`,
            { length: 20, special: false, lower: false },
            parent,
        );
        const secretKey = new random.RandomPassword(`${name}-admin-secret-key`, { length: 40, special: false }, parent);
        const config = pulumi.all([accessKey.result, secretKey.result]).apply(([ak, sk]) =>
            JSON.stringify({
                identities: [
                    {
                        name: "testbed-admin",
                        credentials: [{ accessKey: ak, secretKey: sk }],
                        actions: ["Admin", "Read", "List", "Tagging", "Write"],
                    },
                ],
            }),
        );
        const configSecret = new k8s.core.v1.Secret(
            `${name}-s3-config`,
            {
                metadata: { name: STORE_CONFIG_SECRET, namespace: this.namespace.metadata.name },
                type: "Opaque",
                stringData: { [STORE_CONFIG_KEY]: pulumi.secret(config) },
            },
            parent,
        );
        new k8s.core.v1.Secret(
            `${name}-admin-credentials`,
            {
                metadata: { name: "seaweedfs-admin-credentials", namespace: this.namespace.metadata.name },
                type: "Opaque",
                stringData: {
                    AWS_ACCESS_KEY_ID: pulumi.secret(accessKey.result),
                    AWS_SECRET_ACCESS_KEY: pulumi.secret(secretKey.result),
                    AWS_ENDPOINT_URL_S3: STORE_ENDPOINT,
                },
            },
            parent,
        );
        const chart = CHARTS.seaweedfs;
        this.release = new k8s.helm.v3.Release(
            `${name}-release`,
            {
                name: STORE_RELEASE,
                chart: chart.chart,
                version: chart.version,
                repositoryOpts: { repo: chart.repo },
                namespace: this.namespace.metadata.name,
                values: seaweedfsValues(args),
                waitForJobs: true,
            },
            { ...statefulOptions(args.protection, this), dependsOn: [configSecret] },
        );
        this.registerOutputs({});
    }
}
