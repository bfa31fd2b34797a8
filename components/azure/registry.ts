import * as authorization from "@pulumi/azure-native/authorization";
import * as containerregistry from "@pulumi/azure-native/containerregistry";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { statefulOptions, type StoreProtection } from "../../contract/stateful";
import { roleDefinitionId } from "./roles";

export interface AzureImageRegistryArgs {
    readonly resourceGroupName: pulumi.Input<string>;
    readonly location: string;
    /** Letters and digits the registry name starts with (the rest is random, for global uniqueness). */
    readonly namePrefix: string;
    /** Repository model-server images go to inside the registry. */
    readonly repository: string;
    readonly protection: StoreProtection;
    /** Days after which untagged manifests are deleted. */
    readonly untaggedDays: number;
    /** Object id of the AKS kubelet identity, granted AcrPull. */
    readonly kubeletObjectId: pulumi.Input<string>;
    readonly subscriptionId: pulumi.Input<string>;
    readonly tags: Record<string, string>;
}

/**
 * Azure Container Registry for model-server images: Premium (for the untagged-manifest retention policy), no
 * admin user, no anonymous pull; the cluster's kubelet identity may pull.
 */
export class AzureImageRegistry extends pulumi.ComponentResource {
    readonly registryId: pulumi.Output<string>;
    readonly repositoryUrl: pulumi.Output<string>;

    constructor(name: string, args: AzureImageRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlops-testbed:azure:ImageRegistry", name, {}, opts);
        const suffix = new random.RandomString(
            `${name}-suffix`,
            { length: 6, special: false, upper: false },
            { parent: this },
        );
        const registry = new containerregistry.Registry(
            `${name}-acr`,
            {
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                registryName: suffix.result.apply(
                    (s) =>
                        `${args.namePrefix
                            .toLowerCase()
                            .replace(/[^a-z0-9]/g, "")
                            .slice(0, 44)}${s}`,
                ),
                sku: { name: "Premium" },
                adminUserEnabled: false,
                anonymousPullEnabled: false,
                policies: { retentionPolicy: { status: "enabled", days: args.untaggedDays } },
                tags: args.tags,
            },
            statefulOptions(args.protection, this),
        );
        new authorization.RoleAssignment(
            `${name}-kubelet-pull`,
            {
                scope: registry.id,
                roleDefinitionId: pulumi.output(args.subscriptionId).apply((s) => roleDefinitionId(s, "acrPull")),
                principalId: args.kubeletObjectId,
                principalType: "ServicePrincipal",
                description: "AKS nodes pull model-server images",
            },
            { parent: this },
        );
        this.registryId = registry.id;
        this.repositoryUrl = pulumi.interpolate`${registry.loginServer}/${args.repository}`;
        this.registerOutputs({ repositoryUrl: this.repositoryUrl });
    }
}
