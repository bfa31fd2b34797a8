import { createHash } from "node:crypto";
import * as iam from "@pulumi/aws/iam";
import * as pulumi from "@pulumi/pulumi";
import { irsaTrustPolicy, type PolicyStatement } from "./iam-policy";

/** ServiceAccount annotation that makes the EKS pod identity webhook inject a role's credentials. */
export const IRSA_ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn";

/** IAM's limit on a role name. */
export const IAM_ROLE_NAME_MAX = 64;

/**
 * An explicit IAM role name for a role whose Pulumi name may be long (model and version names reach 30 characters
 * each): the name, shortened to leave room, then `-` and 8 hex digits of a hash of project, stack and the full
 * name, so roles of the same name in two stacks of one account never collide. At most IAM_ROLE_NAME_MAX characters.
 */
export function iamRoleName(name: string, project = pulumi.getProject(), stack = pulumi.getStack()): string {
    const hash = createHash("sha256").update(`${project}/${stack}/${name}`).digest("hex").slice(0, 8);
    const readable = name.replace(/[^\w+=,.@-]/g, "-").slice(0, IAM_ROLE_NAME_MAX - hash.length - 1);
    return `${readable}-${hash}`;
}

export interface IrsaRoleArgs {
    /** Namespace of the Kubernetes service account allowed to assume the role. */
    readonly namespace: pulumi.Input<string>;
    /** Name of that service account. */
    readonly serviceAccount: pulumi.Input<string>;
    /** ARN of the cluster's IAM OIDC provider. */
    readonly oidcProviderArn: pulumi.Input<string>;
    /** The cluster's OIDC issuer (with or without https://). */
    readonly oidcIssuer: pulumi.Input<string>;
    /** The role's only permissions (inline); undefined: no inline policy (IAM refuses one without statements). */
    readonly statements: pulumi.Input<PolicyStatement[]> | undefined;
    /** AWS managed policies attached besides (ARNs); none by default. */
    readonly managedPolicyArns?: readonly string[];
    /** Tags for the role. */
    readonly tags?: Record<string, string>;
}

/**
 * IAM role for one Kubernetes service account (IRSA): the trust policy pins exactly
 * `system:serviceaccount:<namespace>:<name>` and the audience; the inline policy holds only the given statements.
 */
export class IrsaRole extends pulumi.ComponentResource {
    readonly roleArn: pulumi.Output<string>;
    /** Annotation that makes the EKS pod identity webhook inject the role's credentials. */
    readonly serviceAccountAnnotations: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: IrsaRoleArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlops-testbed:aws:IrsaRole", name, {}, opts);
        const trust = pulumi
            .all([args.oidcProviderArn, args.oidcIssuer, args.namespace, args.serviceAccount])
            .apply(([arn, issuer, ns, sa]) => JSON.stringify(irsaTrustPolicy(arn, issuer, ns, sa)));
        const role = new iam.Role(
            `${name}-role`,
            {
                name: iamRoleName(name),
                assumeRolePolicy: trust,
                description: pulumi.interpolate`IRSA role for ${args.namespace}/${args.serviceAccount}`,
                maxSessionDuration: 3600,
                tags: args.tags,
            },
            { parent: this },
        );
        if (args.statements !== undefined)
            new iam.RolePolicy(
                `${name}-policy`,
                {
                    role: role.name,
                    policy: pulumi
                        .output(args.statements)
                        .apply((statements) => JSON.stringify({ Version: "2012-10-17", Statement: statements })),
                },
                { parent: this },
            );
        for (const [i, policyArn] of (args.managedPolicyArns ?? []).entries()) {
            new iam.RolePolicyAttachment(`${name}-managed-${i}`, { role: role.name, policyArn }, { parent: this });
        }
        this.roleArn = role.arn;
        this.serviceAccountAnnotations = role.arn.apply((arn): Record<string, string> => ({
            [IRSA_ROLE_ARN_ANNOTATION]: arn,
        }));
        this.registerOutputs({ roleArn: this.roleArn });
    }
}
