import * as aws from "@pulumi/aws/ec2";
import { getAvailabilityZonesOutput } from "@pulumi/aws/getAvailabilityZones";
import * as pulumi from "@pulumi/pulumi";
import { planSubnets } from "./subnets";

export interface AwsNetworkArgs {
    /** CIDR block of the VPC. */
    readonly cidr: string;
    /** How many availability zones get a public and a private subnet. */
    readonly availabilityZones: number;
    /** One NAT gateway shared by all zones, or one per zone. */
    readonly natGateways: "single" | "one-per-az";
    /** EKS cluster name, for the subnet discovery tags load balancers use. */
    readonly clusterName: string;
    /** Tags for every resource. */
    readonly tags: Record<string, string>;
}

/** A VPC over several zones: public subnets for load balancers and NAT, private subnets for nodes. */
export class AwsNetwork extends pulumi.ComponentResource {
    readonly vpcId: pulumi.Output<string>;
    readonly publicSubnetIds: pulumi.Output<string>[];
    readonly privateSubnetIds: pulumi.Output<string>[];
    readonly natGatewayCount: number;
    /**
     * The private subnets' routes to the internet through NAT. Nodes in private subnets must wait for these: without
     * them they cannot pull images or register, and the node group creation fails after a long timeout.
     */
    readonly privateEgress: pulumi.Resource[];

    constructor(name: string, args: AwsNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlops-testbed:aws:Network", name, {}, opts);
        const parent = { parent: this };
        const plan = planSubnets(args.cidr, args.availabilityZones);
        const zones = getAvailabilityZonesOutput({ state: "available" }, parent).names;
        const clusterTag = { [`kubernetes.io/cluster/${args.clusterName}`]: "shared" };

        const vpc = new aws.Vpc(
            `${name}-vpc`,
            {
                cidrBlock: args.cidr,
                enableDnsHostnames: true,
                enableDnsSupport: true,
                tags: { ...args.tags, Name: `${name}-vpc` },
            },
            parent,
        );
        const igw = new aws.InternetGateway(
            `${name}-igw`,
            { vpcId: vpc.id, tags: { ...args.tags, Name: `${name}-igw` } },
            parent,
        );
        const publicRoutes = new aws.RouteTable(
            `${name}-public-rt`,
            {
                vpcId: vpc.id,
                routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }],
                tags: { ...args.tags, Name: `${name}-public` },
            },
            parent,
        );

        const publicSubnets = plan.publicCidrs.map((cidr, i) => {
            const subnet = new aws.Subnet(
                `${name}-public-${i}`,
                {
                    vpcId: vpc.id,
                    cidrBlock: cidr,
                    availabilityZone: zones[i],
                    mapPublicIpOnLaunch: false,
                    tags: { ...args.tags, ...clusterTag, Name: `${name}-public-${i}`, "kubernetes.io/role/elb": "1" },
                },
                parent,
            );
            new aws.RouteTableAssociation(
                `${name}-public-${i}`,
                { subnetId: subnet.id, routeTableId: publicRoutes.id },
                parent,
            );
            return subnet;
        });

        this.natGatewayCount = args.natGateways === "single" ? 1 : args.availabilityZones;
        const natGateways = Array.from({ length: this.natGatewayCount }, (_, i) => {
            const eip = new aws.Eip(
                `${name}-nat-${i}`,
                { domain: "vpc", tags: { ...args.tags, Name: `${name}-nat-${i}` } },
                parent,
            );
            return new aws.NatGateway(
                `${name}-nat-${i}`,
                {
                    allocationId: eip.id,
                    subnetId: publicSubnets[i].id,
                    tags: { ...args.tags, Name: `${name}-nat-${i}` },
                },
                { parent: this, dependsOn: [igw] },
            );
        });

        const privateEgress: pulumi.Resource[] = [];
        const privateSubnets = plan.privateCidrs.map((cidr, i) => {
            const subnet = new aws.Subnet(
                `${name}-private-${i}`,
                {
                    vpcId: vpc.id,
                    cidrBlock: cidr,
                    availabilityZone: zones[i],
                    tags: {
                        ...args.tags,
                        ...clusterTag,
                        Name: `${name}-private-${i}`,
                        "kubernetes.io/role/internal-elb": "1",
                    },
                },
                parent,
            );
            const nat = natGateways[Math.min(i, natGateways.length - 1)];
            const routes = new aws.RouteTable(
                `${name}-private-rt-${i}`,
                {
                    vpcId: vpc.id,
                    routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }],
                    tags: { ...args.tags, Name: `${name}-private-${i}` },
                },
                parent,
            );
            privateEgress.push(
                new aws.RouteTableAssociation(
                    `${name}-private-${i}`,
                    { subnetId: subnet.id, routeTableId: routes.id },
                    parent,
                ),
            );
            return subnet;
        });

        this.privateEgress = privateEgress;
        this.vpcId = vpc.id;
        this.publicSubnetIds = publicSubnets.map((s) => s.id);
        this.privateSubnetIds = privateSubnets.map((s) => s.id);
        this.registerOutputs({
            vpcId: this.vpcId,
            publicSubnetIds: this.publicSubnetIds,
            privateSubnetIds: this.privateSubnetIds,
        });
    }
}
