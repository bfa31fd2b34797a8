/**
 * In production, resources that hold data (object stores, registries, volumes, vaults) and the keys that encrypt
 * a store are protected: `pulumi destroy` or a replacement refuses to delete them until someone removes the
 * protection on purpose.
 */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { isProduction, PRODUCTION_CONFIG_SCHEMA } from "../lib/resources";

/**
 * Resource types that hold data. A vault is not one by itself: the cluster's KMS vault lives and dies with the
 * cluster (like the EKS secrets key) and purge protection keeps a deleted one recoverable; a vault key that
 * encrypts a store is covered below.
 */
export const STATEFUL_TYPES: readonly string[] = [
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
    "aws:ecr/repository:Repository",
    "aws:efs/fileSystem:FileSystem",
    "aws:dynamodb/table:Table",
    "aws:rds/instance:Instance",
    "aws:rds/cluster:Cluster",
    "azure-native:storage:StorageAccount",
    "azure-native:storage:BlobContainer",
    "azure-native:containerregistry:Registry",
    "kubernetes:core/v1:PersistentVolumeClaim",
    "kubernetes:core/v1:PersistentVolume",
];

/** Key types that are stateful when a store depends on them: deleting the key makes the store's data unreadable. */
const KEY_TYPES: readonly string[] = ["aws:kms/key:Key", "azure-native:keyvault:Key"];

/** Properties by which a resource configures a store (a bucket's encryption names it in `bucket`). */
const STORE_REFERENCES: readonly string[] = [
    "bucket",
    "accountName",
    "repository",
    "registryName",
    "vaultName",
    "fileSystemId",
];

/**
 * Keys a store depends on: the store itself names the key, or a resource that configures the store (through one
 * of STORE_REFERENCES) does. A role allowed to use a key is not a reason: that key may encrypt anything.
 */
function storeKeys(resources: readonly PolicyResource[]): Set<string> {
    const stateful = new Set(resources.filter((r) => STATEFUL_TYPES.includes(r.type)).map((r) => r.urn));
    const keys = new Set<string>();
    for (const r of resources) {
        const configuresStore = STORE_REFERENCES.some((p) =>
            (r.propertyDependencies[p] ?? []).some((d) => stateful.has(d.urn)),
        );
        if (!stateful.has(r.urn) && !configuresStore) continue;
        for (const d of Object.values(r.propertyDependencies).flat()) if (KEY_TYPES.includes(d.type)) keys.add(d.urn);
    }
    return keys;
}

export const productionStatefulProtected: StackValidationPolicy = {
    name: "production-stateful-protected",
    description:
        "In production stacks every resource that holds data, and every key that encrypts a store, is protected (artifactStores.protection: protected).",
    enforcementLevel: "mandatory",
    configSchema: PRODUCTION_CONFIG_SCHEMA,
    validateStack: (args, reportViolation) => {
        const config = args.getConfig<{ productionStacks?: string[] }>();
        const keys = storeKeys(args.resources);
        for (const r of args.resources) {
            if (!isProduction(r.urn, config)) continue;
            const what = STATEFUL_TYPES.includes(r.type)
                ? "holds data"
                : keys.has(r.urn)
                  ? "encrypts a store"
                  : undefined;
            if (what && !r.opts.protect)
                reportViolation(`${r.type} ${r.name} ${what} in a production stack but is not protected.`, r.urn);
        }
    },
};
