import type { AccessMode, StoreGrant, StoreName } from "../../contract/platform";

/** A statement of an IAM policy document (the subset this project writes). */
export interface PolicyStatement {
    readonly Sid?: string;
    readonly Effect: "Allow" | "Deny";
    readonly Action: string[];
    /** Absent in trust policies, which name a Principal instead. */
    readonly Resource?: string | string[];
    readonly Condition?: Record<string, Record<string, string | string[]>>;
    readonly Principal?: Record<string, string | string[]> | "*";
}

export interface PolicyDocument {
    readonly Version: "2012-10-17";
    readonly Statement: PolicyStatement[];
}

const OBJECT_ACTIONS: Record<AccessMode, string[]> = {
    read: ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"],
    write: ["s3:PutObject", "s3:PutObjectTagging", "s3:AbortMultipartUpload"],
    "read-write": [
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:GetObjectTagging",
        "s3:PutObject",
        "s3:PutObjectTagging",
        "s3:AbortMultipartUpload",
    ],
};

const KMS_ACTIONS: Record<AccessMode, string[]> = {
    read: ["kms:Decrypt"],
    write: ["kms:GenerateDataKey", "kms:Encrypt"],
    "read-write": ["kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"],
};

/**
 * Least-privilege S3 statements for store grants: object actions only under each prefix, listing only
 * under each prefix, never s3:DeleteObject (artifacts are immutable; versioning keeps history).
 */
export function s3GrantStatements(
    grants: readonly StoreGrant[],
    bucketArns: Readonly<Record<StoreName, string>>,
    kmsKeyArn: string | undefined,
): PolicyStatement[] {
    const statements: PolicyStatement[] = [];
    grants.forEach((g, i) => {
        if (g.prefix.startsWith("/") || (g.prefix !== "" && !g.prefix.endsWith("/")) || g.prefix.includes("*")) {
            throw new Error(
                `store prefix "${g.prefix}" must be "" or end with "/", without a leading "/" or wildcards`,
            );
        }
        const bucket = bucketArns[g.store];
        statements.push({
            Sid: `Objects${i}`,
            Effect: "Allow",
            Action: OBJECT_ACTIONS[g.access],
            Resource: `${bucket}/${g.prefix}*`,
        });
        statements.push({
            Sid: `List${i}`,
            Effect: "Allow",
            Action: ["s3:ListBucket", "s3:ListBucketVersions"],
            Resource: bucket,
            ...(g.prefix === "" ? {} : { Condition: { StringLike: { "s3:prefix": [`${g.prefix}*`] } } }),
        });
    });
    const modes = new Set(grants.map((g) => g.access));
    const kmsActions = [...new Set([...modes].flatMap((m) => KMS_ACTIONS[m]))].sort();
    // Without a key of the store's own (aws/s3), the AWS managed key's policy admits whoever S3 admits.
    if (kmsActions.length > 0 && kmsKeyArn !== undefined)
        statements.push({ Sid: "StoreKey", Effect: "Allow", Action: kmsActions, Resource: kmsKeyArn });
    return statements;
}

/** Push (and pull) of one ECR repository; the token call cannot be scoped to a repository. */
export function ecrPushStatements(repositoryArn: string): PolicyStatement[] {
    return [
        { Sid: "EcrToken", Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: "*" },
        {
            Sid: "EcrPush",
            Effect: "Allow",
            Action: [
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:CompleteLayerUpload",
                "ecr:GetDownloadUrlForLayer",
                "ecr:InitiateLayerUpload",
                "ecr:PutImage",
                "ecr:UploadLayerPart",
            ],
            Resource: repositoryArn,
        },
    ];
}

/** Trust policy that lets exactly one Kubernetes service account assume a role through the cluster's OIDC provider. */
export function irsaTrustPolicy(
    oidcProviderArn: string,
    oidcIssuer: string,
    namespace: string,
    serviceAccount: string,
): PolicyDocument {
    const issuer = oidcIssuer.replace(/^https:\/\//, "");
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Principal: { Federated: oidcProviderArn },
                Action: ["sts:AssumeRoleWithWebIdentity"],
                Condition: {
                    StringEquals: {
                        [`${issuer}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`,
                        [`${issuer}:aud`]: "sts.amazonaws.com",
                    },
                },
            },
        ],
    };
}
