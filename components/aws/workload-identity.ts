import * as iam from "@pulumi/aws/iam";
import * as pulumi from "@pulumi/pulumi";
import { irsaTrustPolicy, type PolicyStatement } from "./iam-policy";

/** ServiceAccount annotation that makes the EKS pod identity webhook inject a role's credentials. */
export const IRSA_ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn";

export interface IrsaRoleArgs {
    /** Namespace of the Kubernetes service account allowed to assume the role. */
    readonly namespace: pulumi.Input<string>;
    /** Name of that service account. */
    readonly serviceAccount: pulumi.Input<string>;
    /** ARN of the cluster's IAM OIDC provider. */
    readonly oidcProviderArn: pulumi.Input<string>;
    /** The cluster's OIDC issuer (with or without https://). */
    readonly oidcIssuer: pulumi.Input<string>;
    /** The role's only permissions. */
    readonly statements: pulumi.Input<PolicyStatement[]>;
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
                assumeRolePolicy: trust,
                description: pulumi.interpolate`IRSA role for ${args.namespace}/${args.serviceAccount}`,
                maxSessionDuration: 3600,
                tags: args.tags,
            },
            { parent: this },
        );
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
        this.roleArn = role.arn;
        this.serviceAccountAnnotations = role.arn.apply((arn): Record<string, string> => ({
            [IRSA_ROLE_ARN_ANNOTATION]: arn,
        }));
        this.registerOutputs({ roleArn: this.roleArn });
    }
}
