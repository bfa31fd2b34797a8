/**
 * Object stores (S3 buckets, Azure storage accounts and blob containers): encrypted with a managed key, versioned,
 * closed to the public, reachable over TLS only. Most of these settings are separate resources that point at
 * the store (aws.s3.BucketVersioning, azure-native BlobServiceProperties), so these are stack policies that find
 * them through property dependencies.
 */
import type { PolicyResource, ReportViolation, StackValidationPolicy } from "@pulumi/policy";
import { asArray, configuredBy, isRecord } from "../lib/resources";
import type { Json } from "../../contract/json";

export const S3_BUCKET_TYPES = ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"] as const;
const S3_SSE = [
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
];
const S3_VERSIONING = ["aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"];
const S3_PUBLIC_ACCESS_BLOCK = ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"];
const S3_ACL = ["aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2"];
const S3_POLICY = ["aws:s3/bucketPolicy:BucketPolicy"];
export const AZURE_STORAGE_ACCOUNT = "azure-native:storage:StorageAccount";
const AZURE_BLOB_SERVICE = ["azure-native:storage:BlobServiceProperties"];
export const AZURE_BLOB_CONTAINER = "azure-native:storage:BlobContainer";

const KMS_ALGORITHMS = ["aws:kms", "aws:kms:dsse"];
const PUBLIC_ACLS = ["public-read", "public-read-write", "authenticated-read"];
const TLS_VERSIONS = ["TLS1_2", "TLS1_3"];

type Check = (store: PolicyResource, resources: readonly PolicyResource[]) => string[];

/** A stack policy that runs `check` on every store of the given types and reports each problem against it. */
function storePolicy(name: string, description: string, checks: Partial<Record<string, Check>>): StackValidationPolicy {
    return {
        name,
        description,
        enforcementLevel: "mandatory",
        validateStack: (args, reportViolation: ReportViolation) => {
            for (const r of args.resources) {
                const check = checks[r.type];
                if (!check) continue;
                for (const problem of check(r, args.resources))
                    reportViolation(`${r.type} ${r.name}: ${problem}`, r.urn);
            }
        },
    };
}

function s3Statements(policyJson: unknown): Json[] {
    if (typeof policyJson !== "string") return isRecord(policyJson) ? asArray(policyJson.Statement) : [];
    try {
        const doc = JSON.parse(policyJson);
        return Array.isArray(doc.Statement) ? doc.Statement : isRecord(doc.Statement) ? [doc.Statement] : [];
    } catch {
        return [];
    }
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
const isEveryone = (principal: unknown) =>
    principal === "*" || (isRecord(principal) && list(principal.AWS).includes("*"));

const s3Encrypted: Check = (bucket, resources) => {
    const inline = asArray(
        bucket.props.serverSideEncryptionConfiguration?.rule
            ? [bucket.props.serverSideEncryptionConfiguration.rule]
            : [],
    );
    const rules = [
        ...inline,
        ...configuredBy(resources, bucket, S3_SSE, "bucket").flatMap((c) => asArray(c.props.rules)),
    ];
    const kms = rules.some((r) => KMS_ALGORITHMS.includes(r?.applyServerSideEncryptionByDefault?.sseAlgorithm));
    return kms
        ? []
        : [
              "has no default encryption with a KMS key (add a BucketServerSideEncryptionConfiguration with sseAlgorithm aws:kms)",
          ];
};

const s3Versioned: Check = (bucket, resources) => {
    const inline = bucket.props.versioning?.enabled === true;
    const configured = configuredBy(resources, bucket, S3_VERSIONING, "bucket").some(
        (v) => v.props.versioningConfiguration?.status === "Enabled",
    );
    return inline || configured ? [] : ["is not versioned (add a BucketVersioning with status Enabled)"];
};

const s3NotPublic: Check = (bucket, resources) => {
    const problems: string[] = [];
    const block = configuredBy(resources, bucket, S3_PUBLIC_ACCESS_BLOCK, "bucket");
    const full = block.some((b) =>
        ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"].every(
            (k) => b.props[k] === true,
        ),
    );
    if (!full)
        problems.push("does not block public access (add a BucketPublicAccessBlock with all four settings true)");
    const acls = [bucket.props.acl, ...configuredBy(resources, bucket, S3_ACL, "bucket").map((a) => a.props.acl)];
    for (const acl of acls)
        if (typeof acl === "string" && PUBLIC_ACLS.includes(acl)) problems.push(`has the public ACL ${acl}`);
    for (const p of configuredBy(resources, bucket, S3_POLICY, "bucket")) {
        for (const s of s3Statements(p.props.policy)) {
            if (s?.Effect === "Allow" && isEveryone(s.Principal) && !s.Condition)
                problems.push(`bucket policy ${p.name} allows everyone (Principal "*") without a condition`);
        }
    }
    return problems;
};

/** A Deny for every principal and every S3 action on the bucket and its objects when aws:SecureTransport is false. */
function deniesInsecureTransport(s: Json): boolean {
    const insecure = list(s?.Condition?.Bool?.["aws:SecureTransport"]).map(String).includes("false");
    const actions = list(s?.Action).map(String);
    const resources = list(s?.Resource).map(String);
    return (
        s?.Effect === "Deny" &&
        isEveryone(s.Principal) &&
        insecure &&
        (actions.includes("s3:*") || actions.includes("*")) &&
        resources.some((r) => r.endsWith("/*")) &&
        resources.some((r) => !r.endsWith("/*"))
    );
}

const s3TlsOnly: Check = (bucket, resources) => {
    const ok = configuredBy(resources, bucket, S3_POLICY, "bucket").some((p) =>
        s3Statements(p.props.policy).some(deniesInsecureTransport),
    );
    return ok
        ? []
        : [
              "accepts requests without TLS (add a bucket policy denying s3:* on the bucket and its objects when aws:SecureTransport is false)",
          ];
};

const azureEncrypted: Check = (account) => {
    const services = account.props.encryption?.services;
    const off = isRecord(services) && Object.entries(services).some(([, s]) => isRecord(s) && s.enabled === false);
    return off ? ["switches encryption of a storage service off"] : [];
};

const azureVersioned: Check = (account, resources) => {
    const ok = configuredBy(resources, account, AZURE_BLOB_SERVICE, "accountName").some(
        (s) => s.props.isVersioningEnabled === true,
    );
    return ok ? [] : ["has no blob versioning (add BlobServiceProperties with isVersioningEnabled true)"];
};

const azureAccountNotPublic: Check = (account) =>
    account.props.allowBlobPublicAccess === false
        ? []
        : ["does not forbid anonymous blob access (set allowBlobPublicAccess false)"];

const azureContainerNotPublic: Check = (container) => {
    const access = container.props.publicAccess;
    return access === undefined || access === "None"
        ? []
        : [`allows anonymous access (publicAccess ${access}); use None`];
};

const azureTlsOnly: Check = (account) => {
    const problems: string[] = [];
    if (account.props.enableHttpsTrafficOnly !== true)
        problems.push("accepts plain HTTP (set enableHttpsTrafficOnly true)");
    if (!TLS_VERSIONS.includes(account.props.minimumTlsVersion))
        problems.push(
            `accepts TLS older than 1.2 (minimumTlsVersion ${account.props.minimumTlsVersion ?? "unset"}; set TLS1_2)`,
        );
    return problems;
};

const forS3 = (check: Check) => Object.fromEntries(S3_BUCKET_TYPES.map((t) => [t, check]));

export const storageEncrypted = storePolicy(
    "storage-encrypted",
    "Object stores are encrypted at rest with a managed key: S3 buckets default to SSE-KMS; Azure storage accounts keep service encryption on.",
    { ...forS3(s3Encrypted), [AZURE_STORAGE_ACCOUNT]: azureEncrypted },
);

export const storageVersioned = storePolicy(
    "storage-versioned",
    "Object stores keep every version of an object, so an overwrite or delete can be undone.",
    { ...forS3(s3Versioned), [AZURE_STORAGE_ACCOUNT]: azureVersioned },
);

export const storageNotPublic = storePolicy(
    "storage-not-public",
    "Object stores are closed to anonymous access: S3 public access fully blocked, no public ACL or open bucket policy; Azure accounts and containers forbid anonymous blob access.",
    {
        ...forS3(s3NotPublic),
        [AZURE_STORAGE_ACCOUNT]: azureAccountNotPublic,
        [AZURE_BLOB_CONTAINER]: azureContainerNotPublic,
    },
);

export const storageTlsOnly = storePolicy(
    "storage-tls-only",
    "Object stores refuse requests without TLS: an S3 bucket policy denies aws:SecureTransport false; Azure accounts are HTTPS-only with TLS 1.2 or later.",
    { ...forS3(s3TlsOnly), [AZURE_STORAGE_ACCOUNT]: azureTlsOnly },
);

export const storagePolicies = [storageEncrypted, storageVersioned, storageNotPublic, storageTlsOnly];
