import * as aws from "@pulumi/aws/ec2";
import { getAvailabilityZonesOutput } from "@pulumi/aws/getAvailabilityZones";
import * as pulumi from "@pulumi/pulumi";
import { planSubnets } from "./subnets";

export interface AwsNetworkArgs {
    /** CIDR block of the VPC. */
    readonly cidr: string;
    /** How many availability zones get a public and a private subnet. */
    readonly availabilityZones: number;
    /** One NAT shared by all zones, or one per zone. */
    readonly natGateways: "single" | "one-per-az";
    /** Managed NAT gateways, or NAT instances (cheaper; no managed failover). */
    readonly nat: "gateway" | "instance";
    /** EKS cluster name, for the subnet discovery tags load balancers use. */
    readonly clusterName: string;
    /** Tags for every resource. */
    readonly tags: Record<string, string>;
}

/** Instance type of a NAT instance: the smallest Graviton type, whose network bandwidth (up to 5 Gbit/s burst) a dev testbed does not exceed. */
export const NAT_INSTANCE_TYPE = "t4g.nano";
/** Root volume of a NAT instance, GiB (the image's own size). */
export const NAT_INSTANCE_DISK_GIB = 8;
/** The latest Amazon Linux 2023 arm64 image, resolved by EC2 at launch from AWS's public parameter. */
export const NAT_INSTANCE_IMAGE = "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64";

/**
 * Boot script of a NAT instance: forward packets and masquerade what leaves through the default interface, as AWS
 * documents for NAT instances on Amazon Linux 2023 (iptables-services keeps the rule across reboots).
 */
export const NAT_INSTANCE_USER_DATA = `#!/bin/bash
set -euo pipefail
dnf install -y iptables-services
systemctl enable --now iptables
echo "net.ipv4.ip_forward = 1" > /etc/sysctl.d/90-nat.conf
sysctl --system
out=$(ip route show default | awk '{print $5; exit}')
iptables -t nat -A POSTROUTING -o "$out" -j MASQUERADE
iptables -F FORWARD
service iptables save
`;

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
        const natTargets: NatTarget[] = Array.from({ length: this.natGatewayCount }, (_, i) => {
            const eip = new aws.Eip(
                `${name}-nat-${i}`,
                { domain: "vpc", tags: { ...args.tags, Name: `${name}-nat-${i}` } },
                parent,
            );
            if (args.nat === "gateway") {
                const gateway = new aws.NatGateway(
                    `${name}-nat-${i}`,
                    {
                        allocationId: eip.id,
                        subnetId: publicSubnets[i].id,
                        tags: { ...args.tags, Name: `${name}-nat-${i}` },
                    },
                    { parent: this, dependsOn: [igw] },
                );
                return { natGatewayId: gateway.id };
            }
            return this.natInstance(`${name}-nat-${i}`, args, vpc, publicSubnets[i], eip, igw);
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
            const nat = natTargets[Math.min(i, natTargets.length - 1)];
            const routes = new aws.RouteTable(
                `${name}-private-rt-${i}`,
                {
                    vpcId: vpc.id,
                    routes: [{ cidrBlock: "0.0.0.0/0", ...nat }],
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

    /**
     * A NAT instance in a public subnet: source/destination check off so it forwards, reachable only from the VPC,
     * IMDSv2 only, no SSH and no instance role (replace it, never log in), its Elastic IP the egress address.
     */
    private natInstance(
        name: string,
        args: AwsNetworkArgs,
        vpc: aws.Vpc,
        subnet: aws.Subnet,
        eip: aws.Eip,
        igw: aws.InternetGateway,
    ): NatTarget {
        const parent = { parent: this };
        const group = new aws.SecurityGroup(
            `${name}-sg`,
            {
                vpcId: vpc.id,
                description: "NAT instance: any traffic from the VPC in, any traffic out",
                ingress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: [args.cidr] }],
                egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }],
                tags: { ...args.tags, Name: `${name}-sg` },
            },
            parent,
        );
        const template = new aws.LaunchTemplate(
            `${name}-lt`,
            {
                description: "NAT instance: Amazon Linux 2023 arm64, IMDSv2 only, encrypted root volume",
                imageId: NAT_INSTANCE_IMAGE,
                metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
                blockDeviceMappings: [
                    {
                        deviceName: "/dev/xvda",
                        ebs: {
                            volumeSize: NAT_INSTANCE_DISK_GIB,
                            volumeType: "gp3",
                            encrypted: "true",
                            deleteOnTermination: "true",
                        },
                    },
                ],
            },
            parent,
        );
        const instance = new aws.Instance(
            `${name}-instance`,
            {
                instanceType: NAT_INSTANCE_TYPE,
                launchTemplate: { id: template.id, version: template.latestVersion.apply(String) },
                subnetId: subnet.id,
                vpcSecurityGroupIds: [group.id],
                sourceDestCheck: false,
                // A public address from boot: the boot script installs iptables before the Elastic IP is attached.
                associatePublicIpAddress: true,
                userData: NAT_INSTANCE_USER_DATA,
                userDataReplaceOnChange: true,
                tags: { ...args.tags, Name: name },
            },
            { parent: this, dependsOn: [igw] },
        );
        new aws.EipAssociation(`${name}-eip`, { allocationId: eip.id, instanceId: instance.id }, parent);
        return { networkInterfaceId: instance.primaryNetworkInterfaceId };
    }
}

/** Where a private subnet's default route points: a NAT gateway or a NAT instance's network interface. */
type NatTarget =
    { readonly natGatewayId: pulumi.Input<string> } | { readonly networkInterfaceId: pulumi.Input<string> };
