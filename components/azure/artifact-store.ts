import * as storage from "@pulumi/azure-native/storage";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { StoreName } from "../../contract/platform";
import { statefulOptions, type StoreProtection } from "../../contract/stateful";

/** Azure keeps soft-deleted blobs at most this many days. */
export const AZURE_MAX_RETENTION_DAYS = 365;

export interface AzureArtifactStoreArgs {
    readonly resourceGroupName: pulumi.Input<string>;
    readonly location: string;
    /** Letters and digits the account name starts with (the rest is random, for global uniqueness). */
    readonly namePrefix: string;
    readonly protection: StoreProtection;
    /** Days an overwritten or deleted blob version (and a soft-deleted blob) is kept. */
    readonly noncurrentVersionDays: number;
    readonly tags: Record<string, string>;
}

/** Storage account name: 3-24 lowercase letters and digits, globally unique. */
export function storageAccountName(prefix: string, suffix: string): string {
    return `${prefix
        .toLowerCase()
        .replace(/[^a-z0-9]/g, "")
        .slice(0, 24 - suffix.length)}${suffix}`;
}

/**
 * A storage account for the `models` and `datasets` containers: StorageV2, HTTPS only, TLS 1.2, no public blob
 * access, no shared keys (Entra identities only), blob versioning, soft delete of blobs and containers, and a
 * lifecycle rule expiring old versions. Zone-redundant and protected when `protection` is `protected`.
 */
export class AzureArtifactStore extends pulumi.ComponentResource {
    readonly accountName: pulumi.Output<string>;
    readonly accountId: pulumi.Output<string>;
    /** Blob endpoint, e.g. https://<account>.blob.core.windows.net/. */
    readonly blobEndpoint: pulumi.Output<string>;
    readonly containers: Record<StoreName, storage.BlobContainer>;

    constructor(name: string, args: AzureArtifactStoreArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlops-testbed:azure:ArtifactStore", name, {}, opts);
        const stateful = statefulOptions(args.protection, this);
        const suffix = new random.RandomString(
            `${name}-suffix`,
            { length: 6, special: false, upper: false },
            { parent: this },
        );
        const account = new storage.StorageAccount(
            `${name}-account`,
            {
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                accountName: suffix.result.apply((s) => storageAccountName(args.namePrefix, s)),
                kind: "StorageV2",
                sku: { name: args.protection === "protected" ? "Standard_ZRS" : "Standard_LRS" },
                accessTier: "Hot",
                enableHttpsTrafficOnly: true,
                minimumTlsVersion: "TLS1_2",
                allowBlobPublicAccess: false,
                allowSharedKeyAccess: false,
                defaultToOAuthAuthentication: true,
                allowCrossTenantReplication: false,
                tags: args.tags,
            },
            stateful,
        );
        const days = Math.min(args.noncurrentVersionDays, AZURE_MAX_RETENTION_DAYS);
        const blobService = new storage.BlobServiceProperties(
            `${name}-blob-service`,
            {
                resourceGroupName: args.resourceGroupName,
                accountName: account.name,
                blobServicesName: "default",
                isVersioningEnabled: true,
                deleteRetentionPolicy: { enabled: true, days },
                containerDeleteRetentionPolicy: { enabled: true, days },
                changeFeed: { enabled: true, retentionInDays: days },
            },
            stateful,
        );
        new storage.ManagementPolicy(
            `${name}-lifecycle`,
            {
                resourceGroupName: args.resourceGroupName,
                accountName: account.name,
                managementPolicyName: "default",
                policy: {
                    rules: [
                        {
                            name: "expire-noncurrent-versions",
                            enabled: true,
                            type: "Lifecycle",
                            definition: {
                                filters: { blobTypes: ["blockBlob"] },
                                actions: {
                                    version: { delete: { daysAfterCreationGreaterThan: args.noncurrentVersionDays } },
                                },
                            },
                        },
                    ],
                },
            },
            { parent: this, dependsOn: [blobService] },
        );
        const container = (store: StoreName) =>
            new storage.BlobContainer(
                `${name}-${store}`,
                {
                    resourceGroupName: args.resourceGroupName,
                    accountName: account.name,
                    containerName: store,
                    publicAccess: "None",
                },
                { ...stateful, dependsOn: [blobService] },
            );
        this.containers = { models: container("models"), datasets: container("datasets") };
        this.accountName = account.name;
        this.accountId = account.id;
        this.blobEndpoint = account.primaryEndpoints.apply((e) => e.blob);
        this.registerOutputs({ accountName: this.accountName, blobEndpoint: this.blobEndpoint });
    }
}
