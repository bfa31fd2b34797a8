import * as authorization from "@pulumi/azure-native/authorization";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as pulumi from "@pulumi/pulumi";
import type { AccessMode, StoreGrant } from "../../contract/platform";
import { type AzureRole, roleDefinitionId } from "./roles";

/** Audience of tokens AKS workload identity exchanges with Entra ID. */
export const WORKLOAD_IDENTITY_AUDIENCE = "api://AzureADTokenExchange";
export const WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id";
export const WORKLOAD_IDENTITY_USE_LABEL = "azure.workload.identity/use";

const BLOBS = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs";
const act = (action: string) => `ActionMatches{'${BLOBS}/${action}'}`;
const READ_OBJECT = `${act("read")} AND NOT SubOperationMatches{'Blob.List'}`;
const LIST = `${act("read")} AND SubOperationMatches{'Blob.List'}`;
const WRITE_ACTIONS = ["write", "add/action", "move/action"].map(act);

/** Built-in role a grant needs: reading only needs Reader; writing needs Contributor (narrowed by the condition). */
export function blobRole(access: AccessMode): AzureRole {
    return access === "read" ? "storageBlobDataReader" : "storageBlobDataContributor";
}

/**
 * ABAC condition (version 2.0) of a grant's role assignment, or undefined when the role alone is exact. It keeps
 * the same shape as the AWS IAM grants: objects only under the prefix, listing only under the prefix, never a
 * delete (versioning keeps history), and `write` without reading objects back.
 */
export function blobGrantCondition(grant: StoreGrant): string | undefined {
    const { prefix, access } = grant;
    if (prefix.startsWith("/") || (prefix !== "" && !prefix.endsWith("/")) || /[*'\\]/.test(prefix)) {
        throw new Error(
            `store prefix "${prefix}" must be "" or end with "/", without a leading "/", quotes or wildcards`,
        );
    }
    const clauses: string[] = [];
    if (access !== "read") clauses.push(`(\n  !(${act("delete")})\n)`);
    if (access === "write") clauses.push(`(\n  !(${READ_OBJECT})\n)`);
    if (prefix !== "") {
        const objectActions = [
            ...(access !== "write" ? [READ_OBJECT] : []),
            ...(access !== "read" ? WRITE_ACTIONS : []),
        ];
        clauses.push(
            `(\n  ${objectActions.map((a) => `!(${a})`).join("\n  AND ")}\n  OR @Resource[${BLOBS}:path] StringStartsWith '${prefix}'\n)`,
            `(\n  !(${LIST})\n  OR @Request[${BLOBS}:prefix] StringStartsWith '${prefix}'\n)`,
        );
    }
    return clauses.length > 0 ? clauses.join("\nAND\n") : undefined;
}

export interface AzureWorkloadIdentityArgs {
    readonly resourceGroupName: pulumi.Input<string>;
    readonly location: string;
    readonly namespace: pulumi.Input<string>;
    readonly serviceAccount: pulumi.Input<string>;
    /** The AKS cluster's OIDC issuer URL. */
    readonly oidcIssuer: pulumi.Input<string>;
    readonly subscriptionId: pulumi.Input<string>;
    /** Each grant with the resource id of its blob container. */
    readonly grants: readonly (StoreGrant & { readonly containerId: pulumi.Input<string> })[];
    /** Registry the identity may push to, or undefined. */
    readonly pushRegistryId?: pulumi.Input<string>;
    /** Storage Queue whose messages the identity may read and delete (the dataset change queue), or undefined. */
    readonly consumeQueueId?: pulumi.Input<string>;
    readonly tags: Record<string, string>;
}

/**
 * A user-assigned managed identity for one Kubernetes service account (AKS workload identity): its federated
 * credential trusts exactly `system:serviceaccount:<namespace>:<name>` from the cluster's issuer, and its only
 * permissions are role assignments on the granted containers (with an ABAC condition per prefix) and,
 * optionally, AcrPush on the registry and Storage Queue Data Message Processor on one queue.
 */
export class AzureWorkloadIdentity extends pulumi.ComponentResource {
    readonly clientId: pulumi.Output<string>;
    readonly principalId: pulumi.Output<string>;
    readonly serviceAccountAnnotations: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: AzureWorkloadIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlops-testbed:azure:WorkloadIdentity", name, {}, opts);
        const parent = { parent: this };
        const identity = new managedidentity.UserAssignedIdentity(
            `${name}-identity`,
            {
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                tags: args.tags,
            },
            parent,
        );
        new managedidentity.FederatedIdentityCredential(
            `${name}-federation`,
            {
                resourceGroupName: args.resourceGroupName,
                resourceName: identity.name,
                issuer: args.oidcIssuer,
                subject: pulumi.interpolate`system:serviceaccount:${args.namespace}:${args.serviceAccount}`,
                audiences: [WORKLOAD_IDENTITY_AUDIENCE],
            },
            parent,
        );
        const role = (r: AzureRole) => pulumi.output(args.subscriptionId).apply((s) => roleDefinitionId(s, r));
        args.grants.forEach((grant, i) => {
            const condition = blobGrantCondition(grant);
            new authorization.RoleAssignment(
                `${name}-grant-${i}`,
                {
                    scope: grant.containerId,
                    roleDefinitionId: role(blobRole(grant.access)),
                    principalId: identity.principalId,
                    principalType: "ServicePrincipal",
                    description: pulumi.interpolate`${grant.access} ${grant.store}/${grant.prefix} for ${args.namespace}/${args.serviceAccount}`,
                    ...(condition ? { condition, conditionVersion: "2.0" } : {}),
                },
                parent,
            );
        });
        if (args.pushRegistryId) {
            new authorization.RoleAssignment(
                `${name}-registry-push`,
                {
                    scope: args.pushRegistryId,
                    roleDefinitionId: role("acrPush"),
                    principalId: identity.principalId,
                    principalType: "ServicePrincipal",
                    description: pulumi.interpolate`push model-server images for ${args.namespace}/${args.serviceAccount}`,
                },
                parent,
            );
        }
        if (args.consumeQueueId) {
            new authorization.RoleAssignment(
                `${name}-queue-consume`,
                {
                    scope: args.consumeQueueId,
                    roleDefinitionId: role("storageQueueDataMessageProcessor"),
                    principalId: identity.principalId,
                    principalType: "ServicePrincipal",
                    description: pulumi.interpolate`read and delete dataset change messages for ${args.namespace}/${args.serviceAccount}`,
                },
                parent,
            );
        }
        this.clientId = identity.clientId;
        this.principalId = identity.principalId;
        this.serviceAccountAnnotations = identity.clientId.apply((id): Record<string, string> => ({
            [WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION]: id,
        }));
        this.registerOutputs({ clientId: this.clientId });
    }
}
