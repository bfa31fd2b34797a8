import * as kms from "@pulumi/aws/kms";
import * as s3 from "@pulumi/aws/s3";
import * as pulumi from "@pulumi/pulumi";
import type { AwsEncryptionKeys } from "../../contract/config/platform";
import { statefulOptions, type StoreProtection } from "../../contract/stateful";

export { statefulOptions, type StoreProtection };

export interface SecureBucketArgs {
    /** Role of the bucket ("models", "datasets"), used in names and tags. */
    readonly purpose: string;
    /** KMS key for SSE-KMS; undefined: the account's AWS managed key aws/s3. */
    readonly kmsKeyArn: pulumi.Input<string> | undefined;
    /** Days a noncurrent object version is kept. */
    readonly noncurrentVersionDays: number;
    readonly protection: StoreProtection;
    /** Send object events to EventBridge (the data-change trigger consumes them). */
    readonly eventBridge: boolean;
    readonly tags: Record<string, string>;
}

/**
 * An S3 bucket with the controls every artifact store needs: versioning, SSE-KMS with a bucket key, all public
 * access blocked, bucket-owner-enforced ownership, TLS-only access, and expiry of noncurrent versions.
 */
export class SecureBucket extends pulumi.ComponentResource {
    readonly bucketName: pulumi.Output<string>;
    readonly bucketArn: pulumi.Output<string>;

    constructor(name: string, args: SecureBucketArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlops-testbed:aws:SecureBucket", name, {}, opts);
        const stateful = statefulOptions(args.protection, this);
        const bucket = new s3.Bucket(
            `${name}-bucket`,
            {
                forceDestroy: args.protection === "disposable",
                tags: { ...args.tags, purpose: args.purpose },
            },
            stateful,
        );
        const versioning = new s3.BucketVersioning(
            `${name}-versioning`,
            {
                bucket: bucket.id,
                versioningConfiguration: { status: "Enabled" },
            },
            stateful,
        );
        new s3.BucketServerSideEncryptionConfiguration(
            `${name}-sse`,
            {
                bucket: bucket.id,
                rules: [
                    {
                        applyServerSideEncryptionByDefault: {
                            sseAlgorithm: "aws:kms",
                            ...(args.kmsKeyArn === undefined ? {} : { kmsMasterKeyId: args.kmsKeyArn }),
                        },
                        bucketKeyEnabled: true,
                    },
                ],
            },
            stateful,
        );
        const publicAccess = new s3.BucketPublicAccessBlock(
            `${name}-public-access`,
            {
                bucket: bucket.id,
                blockPublicAcls: true,
                blockPublicPolicy: true,
                ignorePublicAcls: true,
                restrictPublicBuckets: true,
            },
            stateful,
        );
        new s3.BucketOwnershipControls(
            `${name}-ownership`,
            {
                bucket: bucket.id,
                rule: { objectOwnership: "BucketOwnerEnforced" },
            },
            stateful,
        );
        new s3.BucketPolicy(
            `${name}-tls-only`,
            {
                bucket: bucket.id,
                policy: bucket.arn.apply((arn) => JSON.stringify(tlsOnlyPolicy(arn))),
            },
            { ...stateful, dependsOn: [publicAccess] },
        );
        new s3.BucketLifecycleConfiguration(
            `${name}-lifecycle`,
            {
                bucket: bucket.id,
                rules: [
                    {
                        id: "expire-noncurrent-versions",
                        status: "Enabled",
                        filter: { prefix: "" },
                        noncurrentVersionExpiration: { noncurrentDays: args.noncurrentVersionDays },
                    },
                    {
                        id: "abort-incomplete-uploads",
                        status: "Enabled",
                        filter: { prefix: "" },
                        abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
                    },
                ],
            },
            { ...stateful, dependsOn: [versioning] },
        );
        if (args.eventBridge) {
            new s3.BucketNotification(`${name}-events`, { bucket: bucket.id, eventbridge: true }, stateful);
        }
        this.bucketName = bucket.bucket;
        this.bucketArn = bucket.arn;
        this.registerOutputs({ bucketName: this.bucketName, bucketArn: this.bucketArn });
    }
}

/** Denies every request not made over TLS, whoever makes it. */
export function tlsOnlyPolicy(bucketArn: string) {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "DenyInsecureTransport",
                Effect: "Deny",
                Principal: "*",
                Action: "s3:*",
                Resource: [bucketArn, `${bucketArn}/*`],
                Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
        ],
    };
}

export interface AwsArtifactStoreArgs {
    readonly protection: StoreProtection;
    readonly noncurrentVersionDays: number;
    /** `customer-managed`: a KMS key of the store's own; `aws-managed`: the account's aws/s3 key. */
    readonly encryptionKeys: AwsEncryptionKeys;
    readonly tags: Record<string, string>;
}

/** The `models` and `datasets` buckets and the KMS key that encrypts both (or the account's aws/s3 key). */
export class AwsArtifactStore extends pulumi.ComponentResource {
    /** The store's own key; undefined with AWS managed keys, whose key policy admits the account's S3 users. */
    readonly kmsKeyArn: pulumi.Output<string> | undefined;
    readonly models: SecureBucket;
    readonly datasets: SecureBucket;

    constructor(name: string, args: AwsArtifactStoreArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlops-testbed:aws:ArtifactStore", name, {}, opts);
        const key =
            args.encryptionKeys === "customer-managed"
                ? new kms.Key(
                      `${name}-key`,
                      {
                          description: "Encrypts the testbed's model and dataset buckets",
                          enableKeyRotation: true,
                          deletionWindowInDays: args.protection === "protected" ? 30 : 7,
                          tags: args.tags,
                      },
                      statefulOptions(args.protection, this),
                  )
                : undefined;
        const common = {
            kmsKeyArn: key?.arn,
            noncurrentVersionDays: args.noncurrentVersionDays,
            protection: args.protection,
            tags: args.tags,
        };
        this.models = new SecureBucket(
            `${name}-models`,
            { ...common, purpose: "models", eventBridge: false },
            { parent: this },
        );
        this.datasets = new SecureBucket(
            `${name}-datasets`,
            { ...common, purpose: "datasets", eventBridge: true },
            { parent: this },
        );
        this.kmsKeyArn = key?.arn;
        this.registerOutputs({ kmsKeyArn: this.kmsKeyArn });
    }
}
