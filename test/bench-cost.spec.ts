import * as assert from "node:assert/strict";
import fc from "fast-check";
import { validateStackConfig } from "../infra/config";
import {
    type CostInputs,
    costInputs,
    type CostResource,
    loadBalancersOf,
    monthlyCost,
    type NodePool,
    nodePoolsOf,
    quantityGiB,
    runningNodes,
} from "../tools/bench/cost";
import { ASSUMED_STORAGE_GB, AWS_PRICES, HOURS_PER_MONTH, SPOT_PRICE_FACTOR } from "../tools/bench/prices";
import { loadStack } from "../tools/stack";
import { planStack } from "./harness";

const system: NodePool = {
    name: "system",
    gpu: false,
    instanceType: "m6i.large",
    capacityType: "on-demand",
    minSize: 2,
    maxSize: 3,
    desiredSize: 2,
    diskGiB: 50,
};
const t4: NodePool = {
    name: "t4",
    gpu: true,
    instanceType: "g4dn.xlarge",
    capacityType: "spot",
    minSize: 0,
    maxSize: 2,
    desiredSize: 0,
    diskGiB: 100,
};
const base: CostInputs = {
    region: "eu-west-1",
    clusters: 1,
    natGateways: 1,
    natInstances: [],
    publicIpv4: 1,
    kmsKeys: 2,
    loadBalancers: 0,
    pools: [system, t4],
    volumeGiB: 20,
};

const near = (a: number, b: number, msg?: string) => assert.ok(Math.abs(a - b) < 1e-6, `${msg ?? ""} ${a} != ${b}`);

describe("bench cost", () => {
    it("reads Kubernetes storage quantities as GiB", () => {
        assert.equal(quantityGiB("20Gi"), 20);
        assert.equal(quantityGiB("1Ti"), 1024);
        assert.equal(quantityGiB("512Mi"), 0.5);
        near(quantityGiB("1G"), 1e9 / 2 ** 30);
        assert.throws(() => quantityGiB("lots"), /not a storage quantity/);
        // Decimals, bare bytes and padding as Kubernetes reads them; anything around the quantity is refused.
        assert.equal(quantityGiB("1.5Gi"), 1.5);
        assert.equal(quantityGiB("1.25Ti"), 1280);
        assert.equal(quantityGiB("1073741824"), 1);
        assert.equal(quantityGiB(" 20Gi "), 20);
        assert.throws(() => quantityGiB("x20Gi"), /not a storage quantity: "x20Gi"/);
        assert.throws(() => quantityGiB("20Gix"), /not a storage quantity: "20Gix"/);
    });

    it("lists every line with its quantity, unit, unit price and monthly figure, NAT instances per type", () => {
        // eu-west-1: EKS $0.10/h, t4g.nano $0.0046/h, t4g.small $0.0184/h, IPv4 $0.005/h, m6i.large $0.107/h,
        // g4dn.xlarge $0.587/h (spot at 40 %: $0.2348/h), gp3 $0.088/GB-month, LB $0.0252/h, KMS $1/key-month,
        // S3 $0.023/GB-month, ECR $0.10/GB-month; 730 hours.
        const cost = monthlyCost(
            {
                ...base,
                natGateways: 0,
                natInstances: ["t4g.nano", "t4g.small", "t4g.nano"],
                publicIpv4: 3,
                loadBalancers: 1,
            },
            1,
        );
        const expected: [string, number, string, number, number, boolean][] = [
            ["EKS control plane", 1, "cluster-hour", 0.1, 73, false],
            ["NAT gateways", 0, "gateway-hour", 0.048, 0, false],
            ["NAT instances (t4g.nano)", 2, "instance-hour", 0.0046, 6.716, false],
            ["NAT instances (t4g.nano) disks", 16, "GB-month gp3", 0.088, 1.408, false],
            ["NAT instances (t4g.small)", 1, "instance-hour", 0.0184, 13.432, false],
            ["NAT instances (t4g.small) disks", 8, "GB-month gp3", 0.088, 0.704, false],
            ["Public IPv4 (NAT EIPs)", 3, "address-hour", 0.005, 10.95, false],
            ["system nodes system (m6i.large, on-demand)", 2, "node-hour", 0.107, 156.22, false],
            ["system nodes system (m6i.large, on-demand) disks", 100, "GB-month gp3", 0.088, 8.8, false],
            ["GPU nodes t4 (g4dn.xlarge, spot)", 1, "node-hour", 0.2348, 171.404, false],
            ["GPU nodes t4 (g4dn.xlarge, spot) disks", 100, "GB-month gp3", 0.088, 8.8, false],
            ["Load balancers", 1, "LB-hour", 0.0252, 18.396, false],
            ["KMS keys", 2, "key-month", 1, 2, false],
            ["Prometheus volume", 20, "GB-month gp3", 0.088, 1.76, false],
            ["S3 artifacts (assumed size)", 100, "GB-month", 0.023, 2.3, true],
            ["ECR images (assumed size)", 10, "GB-month", 0.1, 1, true],
        ];
        assert.deepEqual(
            cost.lines.map((l) => [l.item, l.quantity, l.unit, l.assumed]),
            expected.map(([item, quantity, unit, , , assumed]) => [item, quantity, unit, assumed]),
        );
        cost.lines.forEach((l, i) => {
            near(l.unitPrice, expected[i][3], `${l.item} unit price`);
            near(l.monthly, expected[i][4], `${l.item} monthly`);
        });
        near(cost.total, 476.89);
        assert.deepEqual(cost.perGB, [{ item: "CloudWatch Logs ingested (control-plane logs)", usdPerGB: 0.57 }]);
        assert.deepEqual(monthlyCost(base, 0).perGB, [
            { item: "NAT gateway data processed", usdPerGB: 0.048 },
            { item: "CloudWatch Logs ingested (control-plane logs)", usdPerGB: 0.57 },
        ]);
    });

    it("reads node groups from the plan: first instance type, capacity, sizes, GPU labels and the root volume", () => {
        const group = (name: string | undefined, inputs: Record<string, unknown>): CostResource => ({
            type: "aws:eks/nodeGroup:NodeGroup",
            ...(name === undefined ? {} : { name }),
            inputs: { instanceTypes: ["m6i.large", "m6i.xlarge"], ...inputs },
        });
        const template = (name: string, blockDeviceMappings?: unknown): CostResource => ({
            type: "aws:ec2/launchTemplate:LaunchTemplate",
            name,
            inputs: blockDeviceMappings === undefined ? {} : { blockDeviceMappings },
        });
        const pools = nodePoolsOf([
            // Not a launch template, though named like one: never read for a volume.
            {
                type: "aws:iam/role:Role",
                name: "sys-lt",
                inputs: { blockDeviceMappings: [{ ebs: { volumeSize: 1 } }] },
            },
            template("other-lt", [{ ebs: { volumeSize: 2 } }]),
            group("sys-ng", {
                capacityType: "ON_DEMAND",
                scalingConfig: { minSize: 2, maxSize: 4, desiredSize: 3 },
                labels: { "mlops-testbed/node-role": "system" },
            }),
            template("sys-lt", [{ ebs: { volumeSize: 60 } }]),
            group("ml-ngc-ng", {
                instanceTypes: ["g4dn.xlarge"],
                capacityType: "SPOT",
                scalingConfig: { minSize: 1, maxSize: 2 },
                labels: { "nvidia.com/gpu.present": "true", "mlops-testbed/gpu-pool": "t4" },
            }),
            template("ml-ngc-lt", [{ ebs: { volumeSize: 120 } }]),
            template("ml-ltc-ng", [{ ebs: { volumeSize: 3 } }]),
            group("role-ng", { labels: { "mlops-testbed/node-role": "gpu" }, diskSize: 80 }),
            group(undefined, {}),
            group("empty-ng", {}),
            template("empty-lt", []),
            group("bare-ng", {}),
            template("bare-lt", [{}]),
            group("nomap-ng", {}),
            template("nomap-lt"),
        ]);
        assert.deepEqual(
            pools.map((p) => [p.name, p.gpu, p.instanceType, p.capacityType, p.minSize, p.maxSize, p.desiredSize]),
            [
                ["system", false, "m6i.large", "on-demand", 2, 4, 3],
                ["t4", true, "g4dn.xlarge", "spot", 1, 2, 1],
                ["gpu", true, "m6i.large", "on-demand", 0, 0, 0],
                ["m6i.large", false, "m6i.large", "on-demand", 0, 0, 0],
                ["m6i.large", false, "m6i.large", "on-demand", 0, 0, 0],
                ["m6i.large", false, "m6i.large", "on-demand", 0, 0, 0],
                ["m6i.large", false, "m6i.large", "on-demand", 0, 0, 0],
            ],
        );
        // The group's own diskSize, else its `-lt` twin's first volume, else EKS's 20 GiB.
        assert.deepEqual(
            pools.map((p) => p.diskGiB),
            [60, 120, 80, 20, 20, 20, 20],
        );
        assert.throws(
            () => nodePoolsOf([{ type: "aws:eks/nodeGroup:NodeGroup", name: "x-ng", inputs: {} }]),
            /^Error: a node group in the plan has no instanceTypes$/,
        );
    });

    it("counts AWS load balancers and Services of type LoadBalancer, nothing else", () => {
        const service = (spec?: unknown): CostResource => ({
            type: "kubernetes:core/v1:Service",
            inputs: spec === undefined ? {} : { spec },
        });
        assert.equal(loadBalancersOf([{ type: "aws:lb/loadBalancer:LoadBalancer", inputs: {} }]), 1);
        assert.equal(loadBalancersOf([{ type: "aws:alb/loadBalancer:LoadBalancer", inputs: {} }]), 1);
        assert.equal(loadBalancersOf([service({ type: "LoadBalancer" }), service({ type: "LoadBalancer" })]), 2);
        assert.equal(
            loadBalancersOf([
                service({ type: "ClusterIP" }),
                service(),
                { type: "kubernetes:example.com/v1:Balancer", inputs: { spec: { type: "LoadBalancer" } } },
                { type: "aws:lb/targetGroup:TargetGroup", inputs: {} },
            ]),
            0,
        );
    });

    it("counts clusters, NAT gateways and instances, addresses and keys in a plan", () => {
        const r = (type: string, inputs: Record<string, unknown> = {}): CostResource => ({ type, inputs });
        const config = { aws: { region: "us-east-1" }, monitoring: { storageSize: "50Gi" } };
        const inputs = costInputs(
            [
                r("eks:index:Cluster"),
                r("aws:eks/cluster:Cluster"),
                r("aws:ec2/natGateway:NatGateway"),
                r("aws:ec2/instance:Instance", { instanceType: "t4g.nano" }),
                r("aws:ec2/eip:Eip"),
                r("aws:ec2/eip:Eip"),
                r("aws:ec2/eipAssociation:EipAssociation"),
                r("aws:kms/key:Key"),
                r("aws:kms/key:Key"),
                r("aws:kms/key:Key"),
                r("aws:kms/alias:Alias"),
                r("aws:lb/loadBalancer:LoadBalancer"),
            ],
            config,
        );
        assert.deepEqual(inputs, {
            region: "us-east-1",
            clusters: 2,
            natGateways: 1,
            natInstances: ["t4g.nano"],
            publicIpv4: 2,
            kmsKeys: 3,
            loadBalancers: 1,
            pools: [],
            volumeGiB: 50,
        });
        assert.throws(
            () => costInputs([r("aws:ec2/instance:Instance")], config),
            /^Error: an EC2 instance in the plan has no instanceType$/,
        );
        assert.throws(
            () => costInputs([], { monitoring: { storageSize: "50Gi" } }),
            /^Error: no aws\.region in the config: only AWS stacks have a price table$/,
        );
    });

    it("prices an idle stack line by line from the table", () => {
        const p = AWS_PRICES["eu-west-1"];
        const idle = monthlyCost(base, 0);
        const expected =
            HOURS_PER_MONTH *
                (p.eksControlPlaneHour + p.natGatewayHour + p.publicIpv4Hour + 2 * p.instanceHour["m6i.large"]) +
            2 * 50 * p.ebsGp3GBMonth +
            2 * p.kmsKeyMonth +
            20 * p.ebsGp3GBMonth +
            ASSUMED_STORAGE_GB.s3 * p.s3GBMonth +
            ASSUMED_STORAGE_GB.ecr * p.ecrGBMonth;
        near(idle.total, expected);
        assert.equal(idle.lines.find((l) => l.item.startsWith("GPU nodes"))!.quantity, 0);
        assert.ok(idle.lines.filter((l) => l.assumed).every((l) => /assumed/.test(l.item)));
    });

    it("prices NAT instances by the hour with their disks in place of gateways, with no per-GB processing", () => {
        const p = AWS_PRICES["eu-west-1"];
        const withGateway = monthlyCost(base, 0);
        const withInstance = monthlyCost({ ...base, natGateways: 0, natInstances: ["t4g.nano"] }, 0);
        const line = withInstance.lines.find((l) => l.item === "NAT instances (t4g.nano)")!;
        assert.equal(line.quantity, 1);
        near(line.monthly, 0.0046 * HOURS_PER_MONTH);
        near(withInstance.lines.find((l) => l.item === "NAT instances (t4g.nano) disks")!.monthly, 8 * p.ebsGp3GBMonth);
        near(
            withGateway.total - withInstance.total,
            (p.natGatewayHour - 0.0046) * HOURS_PER_MONTH - 8 * p.ebsGp3GBMonth,
        );
        assert.ok(withGateway.perGB.some((g) => /NAT gateway/.test(g.item)));
        assert.ok(!withInstance.perGB.some((g) => /NAT gateway/.test(g.item)));
    });

    it("keeps system pools at desiredSize and puts busy GPU nodes on the first GPU pool only", () => {
        const second: NodePool = { ...t4, name: "second", minSize: 1 };
        assert.deepEqual(runningNodes([system, t4, second], 0), [2, 0, 1]);
        assert.deepEqual(runningNodes([system, t4, second], 3), [2, 3, 1]);
    });

    it("grows by the same amount for every further busy GPU node, and spot costs less than on-demand", () => {
        fc.assert(
            fc.property(
                fc.integer({ min: 0, max: 50 }),
                fc.constantFrom(...(Object.keys(AWS_PRICES) as (keyof typeof AWS_PRICES)[])),
                (n, region) => {
                    const inputs = { ...base, region };
                    const step = monthlyCost(inputs, n + 1).total - monthlyCost(inputs, n).total;
                    const p = AWS_PRICES[region];
                    near(
                        step,
                        HOURS_PER_MONTH * p.instanceHour["g4dn.xlarge"] * SPOT_PRICE_FACTOR +
                            t4.diskGiB * p.ebsGp3GBMonth,
                        "per-node step",
                    );
                    const onDemand = { ...inputs, pools: [system, { ...t4, capacityType: "on-demand" as const }] };
                    assert.ok(monthlyCost(onDemand, n + 1).total > monthlyCost(inputs, n + 1).total);
                    assert.ok(monthlyCost(inputs, n).lines.every((l) => l.monthly >= 0));
                },
            ),
        );
    });

    it("says which table to extend for an unknown region or instance type", () => {
        assert.throws(
            () => monthlyCost({ ...base, region: "ap-south-2" }, 0),
            /no prices for region ap-south-2.*tools\/bench\/prices\.ts \(have: eu-west-1, us-east-1\)$/,
        );
        assert.throws(
            () => monthlyCost({ ...base, pools: [{ ...system, instanceType: "x9.huge" }] }, 0),
            /no price for x9\.huge in eu-west-1.*instanceHour/,
        );
        assert.throws(() => monthlyCost(base, -1), /whole number/);
    });

    for (const stack of ["dev", "prod"]) {
        it(`derives the ${stack} inputs from its plan and config, and prices every instance type it uses`, async () => {
            const plan = await planStack(stack);
            const config = validateStackConfig(loadStack(stack).config, loadStack(stack).secretKeys).config!;
            const inputs = costInputs(plan.resources, config);
            assert.equal(inputs.region, config.cloud === "aws" ? config.aws.region : undefined);
            assert.equal(inputs.clusters, 1);
            const nats = config.network.natGateways === "single" ? 1 : config.network.availabilityZones;
            assert.equal(inputs.natGateways, config.network.nat === "gateway" ? nats : 0);
            assert.deepEqual(
                inputs.natInstances,
                config.network.nat === "instance" ? Array(nats).fill("t4g.nano") : [],
            );
            assert.deepEqual(
                inputs.pools.filter((p) => p.gpu).map((p) => p.name),
                config.gpuNodePools.map((p) => p.name),
            );
            // Disks come from the launch templates the node groups use, as the config sizes them.
            assert.deepEqual(
                inputs.pools.map((p) => p.diskGiB),
                inputs.pools.map((p) =>
                    p.gpu
                        ? config.gpuNodePools.find((g) => g.name === p.name)!.diskSizeGiB
                        : config.cluster.systemNodes.diskSizeGiB,
                ),
            );
            const firstGpu = config.gpuNodePools[0];
            const busy = monthlyCost(inputs, firstGpu?.maxSize ?? 0);
            assert.ok(busy.total >= monthlyCost(inputs, 0).total);
        });
    }
});
