import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ExistingConfig } from "../../contract/config/platform";
import type { ArtifactStore, Egress } from "../../contract/platform";
import { credentialsSecretName } from "./store-identity";
import { endpointParts } from "./validate";

type ExternalStoreConfig = ExistingConfig["store"];

/** The store's keys given as secret config (`storeCredentials`), instead of a Secret in the cluster. */
export interface StoreKeys {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
}

/** The region an external store signs for when the config names none (what most S3-compatible stores accept). */
export const DEFAULT_EXTERNAL_REGION = "us-east-1";

/**
 * How pods reach the endpoint: the egress the config gives; else the endpoint's own address when it is an IP (one
 * address block); else public addresses on the endpoint's port. Validation has refused the cases this cannot
 * guess (a private address or an in-cluster Service without egress).
 */
export function externalStoreEgress(store: ExternalStoreConfig): Egress {
    const parts = endpointParts(store.endpoint);
    if (!parts)
        throw new Error(`existing.store.endpoint ${store.endpoint} does not parse (validated before this point)`);
    const { egress } = store;
    if (egress?.cidrs) return { kind: "address-blocks", cidrs: egress.cidrs, port: parts.port };
    if (egress?.namespace && egress.podLabels)
        return { kind: "in-cluster", namespace: egress.namespace, podLabels: egress.podLabels, port: parts.port };
    if (parts.ipv4) return { kind: "address-blocks", cidrs: [`${parts.host}/32`], port: parts.port };
    return { kind: "public", port: parts.port };
}

/** The Platform's view of an external S3-compatible store. */
export function externalArtifactStore(store: ExternalStoreConfig): ArtifactStore {
    return {
        kind: "s3-compatible",
        modelsBucket: pulumi.output(store.buckets!.models),
        datasetsBucket: pulumi.output(store.buckets!.datasets),
        region: store.region ?? DEFAULT_EXTERNAL_REGION,
        endpoint: pulumi.output(store.endpoint!),
        egress: externalStoreEgress(store),
    };
}

export interface ExternalStoreArgs {
    /** `existing.store` (kind external: endpoint, region, buckets, credentialsSecret). */
    readonly store: ExternalStoreConfig;
    /** The keys from secret config, when the store's config names no credentials Secret. */
    readonly keys?: pulumi.Output<StoreKeys>;
}

/**
 * An S3-compatible store the cluster already uses. The testbed neither creates nor deletes its buckets, and cannot
 * scope keys per workload (it does not administer the store): every workload that needs the store gets a Secret
 * with the one set of keys the config names (`credentialsSecret`, read from the cluster, or `storeCredentials`), so
 * the key you give should be limited to the two buckets, and without delete if the store allows it.
 */
export class ExternalStore extends pulumi.ComponentResource {
    private readonly accessKeyId: pulumi.Output<string>;
    private readonly secretAccessKey: pulumi.Output<string>;
    private readonly endpoint: string;
    private readonly region: string;
    /** Where the keys come from, for the binding's `identity`. */
    readonly source: string;

    constructor(name: string, args: ExternalStoreArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlops-testbed:existing:ExternalStore", name, {}, opts);
        const { store } = args;
        this.endpoint = store.endpoint!;
        this.region = store.region ?? DEFAULT_EXTERNAL_REGION;
        const ref = store.credentialsSecret;
        if (ref) {
            // Read (not managed) from the cluster; its values stay secret outputs and are copied, never printed.
            const source = k8s.core.v1.Secret.get(`${name}-source`, `${ref.namespace}/${ref.name}`, { parent: this });
            const key = (k: string) =>
                pulumi.secret(
                    source.data.apply((data) => {
                        // No data at all: the offline plan's stand-in for a read; a real Secret always has its map.
                        if (data === undefined) return "";
                        if (!data[k]) throw new Error(`Secret ${ref.namespace}/${ref.name} has no key ${k}`);
                        return Buffer.from(data[k], "base64").toString("utf8");
                    }),
                );
            this.accessKeyId = key(ref.accessKeyIdKey);
            this.secretAccessKey = key(ref.secretAccessKeyKey);
            this.source = `${ref.namespace}/${ref.name}`;
        } else {
            if (!args.keys)
                throw new Error("an external store needs credentialsSecret or storeCredentials (validated)");
            this.accessKeyId = pulumi.secret(args.keys.apply((k) => k.accessKeyId));
            this.secretAccessKey = pulumi.secret(args.keys.apply((k) => k.secretAccessKey));
            this.source = "storeCredentials";
        }
        this.registerOutputs({});
    }

    /**
     * The store's keys for one service account: a Secret `<serviceAccount>-store-credentials` in its namespace, the
     * same shape as the in-cluster store's per-workload Secrets (AWS_* variables the S3 clients read).
     */
    credentialsFor(
        name: string,
        namespace: pulumi.Input<string>,
        serviceAccount: pulumi.Input<string>,
        opts: pulumi.CustomResourceOptions,
    ): pulumi.Output<string> {
        const secretName = pulumi.output(serviceAccount).apply(credentialsSecretName);
        new k8s.core.v1.Secret(
            `${name}-credentials`,
            {
                metadata: {
                    name: secretName,
                    namespace,
                    labels: { "app.kubernetes.io/part-of": "mlops-testbed" },
                },
                type: "Opaque",
                stringData: {
                    AWS_ACCESS_KEY_ID: this.accessKeyId,
                    AWS_SECRET_ACCESS_KEY: this.secretAccessKey,
                    AWS_ENDPOINT_URL_S3: this.endpoint,
                    AWS_REGION: this.region,
                },
            },
            opts,
        );
        return secretName;
    }
}
