import * as network from "@pulumi/azure-native/network";
import * as pulumi from "@pulumi/pulumi";
import { intToIp, ipToInt } from "../../contract/ipv4";

/** Subnets carved from the virtual network: nodes take the first half, internal load balancers the next eighth. */
export interface AzureSubnetPlan {
    readonly nodesCidr: string;
    readonly servicesCidr: string;
}

export function planAzureSubnets(vnetCidr: string): AzureSubnetPlan {
    const [base, bitsText] = vnetCidr.split("/");
    const bits = Number(bitsText);
    if (!(bits >= 8 && bits <= 20)) throw new Error(`virtual network CIDR ${vnetCidr} must be between /8 and /20`);
    const size = 2 ** (32 - bits);
    const start = ipToInt(base) - (ipToInt(base) % size);
    return { nodesCidr: `${intToIp(start)}/${bits + 1}`, servicesCidr: `${intToIp(start + size / 2)}/${bits + 3}` };
}

export interface AzureNetworkArgs {
    readonly resourceGroupName: pulumi.Input<string>;
    readonly location: string;
    /** Address space of the virtual network. */
    readonly cidr: string;
    readonly tags: Record<string, string>;
}

/**
 * A virtual network for AKS with Azure CNI Overlay: nodes get addresses from the `nodes` subnet, pods from an
 * overlay range outside the VNet, and internal load balancers from the `services` subnet.
 */
export class AzureNetwork extends pulumi.ComponentResource {
    readonly vnetId: pulumi.Output<string>;
    readonly nodesSubnetId: pulumi.Output<string>;
    readonly servicesSubnetId: pulumi.Output<string>;

    constructor(name: string, args: AzureNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlops-testbed:azure:Network", name, {}, opts);
        const plan = planAzureSubnets(args.cidr);
        const vnet = new network.VirtualNetwork(
            `${name}-vnet`,
            {
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                addressSpace: { addressPrefixes: [args.cidr] },
                tags: args.tags,
            },
            { parent: this, ignoreChanges: ["subnets"] },
        );
        const nodes = new network.Subnet(
            `${name}-nodes`,
            {
                resourceGroupName: args.resourceGroupName,
                virtualNetworkName: vnet.name,
                subnetName: "nodes",
                addressPrefix: plan.nodesCidr,
                defaultOutboundAccess: false,
            },
            { parent: this },
        );
        const services = new network.Subnet(
            `${name}-services`,
            {
                resourceGroupName: args.resourceGroupName,
                virtualNetworkName: vnet.name,
                subnetName: "services",
                addressPrefix: plan.servicesCidr,
                defaultOutboundAccess: false,
            },
            { parent: this, dependsOn: [nodes] },
        );
        this.vnetId = vnet.id;
        this.nodesSubnetId = nodes.id;
        this.servicesSubnetId = services.id;
        this.registerOutputs({
            vnetId: this.vnetId,
            nodesSubnetId: this.nodesSubnetId,
            servicesSubnetId: this.servicesSubnetId,
        });
    }
}
