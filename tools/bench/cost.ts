/**
 * Monthly cost of a stack from what its plan would create and its config: node groups (instance type,
 * capacity type, sizes, disks) as the plan registers them, NAT gateways, Elastic IPs, KMS keys, clusters and
 * load balancers counted in the plan, the Prometheus volume from `monitoring.storageSize`, and the prices in
 * tools/bench/prices.ts. Nothing here knows a stack by name.
 *
 * Pure functions over plain data.
 */
import { NAT_INSTANCE_DISK_GIB } from "../../components/aws/network";
import { ASSUMED_STORAGE_GB, AWS_PRICES, HOURS_PER_MONTH, type RegionPrices, SPOT_PRICE_FACTOR } from "./prices";

/** What the cost needs of a planned resource. */
export interface CostResource {
    readonly type: string;
    /** The resource's name in the plan (pairs a node group with its launch template). */
    readonly name?: string;
    readonly inputs: Readonly<Record<string, unknown>>;
}

export interface NodePool {
    readonly name: string;
    readonly gpu: boolean;
    /** The first instance type of the group, the one priced (the autoscaler may pick another). */
    readonly instanceType: string;
    readonly capacityType: "on-demand" | "spot";
    readonly minSize: number;
    readonly maxSize: number;
    readonly desiredSize: number;
    readonly diskGiB: number;
}

export interface CostInputs {
    readonly region: string;
    readonly clusters: number;
    readonly natGateways: number;
    /** Instance types of the NAT instances (`network.nat: instance`), one entry per instance. */
    readonly natInstances: readonly string[];
    readonly publicIpv4: number;
    readonly kmsKeys: number;
    readonly loadBalancers: number;
    readonly pools: readonly NodePool[];
    /** Persistent volumes the stack sizes in config (the Prometheus volume), GiB. */
    readonly volumeGiB: number;
}

export interface CostLine {
    readonly item: string;
    readonly quantity: number;
    readonly unit: string;
    /** USD per unit (per hour for hourly items, per month otherwise). */
    readonly unitPrice: number;
    readonly monthly: number;
    /** Assumed quantities (not from config or plan) are flagged so a reader can discount them. */
    readonly assumed: boolean;
}

export interface MonthlyCost {
    readonly region: string;
    readonly busyGpuNodes: number;
    readonly lines: readonly CostLine[];
    readonly total: number;
    /** Usage-priced items left out of the total, with their rate. */
    readonly perGB: readonly { readonly item: string; readonly usdPerGB: number }[];
}

const BINARY = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50 } as const;
const DECIMAL = { k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15 } as const;

/** A Kubernetes storage quantity ("20Gi", "1Ti", "500G") in GiB. */
export function quantityGiB(q: string): number {
    const m = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/.exec(q.trim());
    if (!m) throw new Error(`not a storage quantity: ${JSON.stringify(q)}`);
    const n = Number(m[1]);
    const unit = m[2];
    const bytes = !unit
        ? n
        : unit in BINARY
          ? n * BINARY[unit as keyof typeof BINARY]
          : n * DECIMAL[unit as keyof typeof DECIMAL];
    return bytes / 2 ** 30;
}

const count = (resources: readonly CostResource[], ...types: string[]) =>
    resources.filter((r) => types.includes(r.type)).length;

/**
 * The root volume of a node group: its own `diskSize`, else the launch template the testbed pairs with it
 * (`<group>-lt` beside `<group>-ng`, which sets the volume), else EKS's default of 20 GiB.
 */
function diskGiBOf(group: CostResource, resources: readonly CostResource[]): number {
    const own = group.inputs["diskSize"];
    if (typeof own === "number") return own;
    const templateName = group.name?.replace(/-ng$/, "-lt");
    const template = resources.find(
        (r) => r.type === "aws:ec2/launchTemplate:LaunchTemplate" && templateName && r.name === templateName,
    );
    const mappings = template?.inputs["blockDeviceMappings"] as { ebs?: { volumeSize?: number } }[] | undefined;
    return mappings?.[0]?.ebs?.volumeSize ?? 20;
}

/** Node groups as the plan registers them (`aws:eks/nodeGroup:NodeGroup`); GPU pools carry the GPU node label. */
export function nodePoolsOf(resources: readonly CostResource[]): NodePool[] {
    return resources
        .filter((r) => r.type === "aws:eks/nodeGroup:NodeGroup")
        .map((r) => {
            const i = r.inputs as {
                instanceTypes?: string[];
                capacityType?: string;
                scalingConfig?: { minSize?: number; maxSize?: number; desiredSize?: number };
                labels?: Record<string, string>;
            };
            const labels = i.labels ?? {};
            const instanceType = i.instanceTypes?.[0];
            if (!instanceType) throw new Error("a node group in the plan has no instanceTypes");
            const sc = i.scalingConfig ?? {};
            return {
                name: labels["mlops-testbed/gpu-pool"] ?? labels["mlops-testbed/node-role"] ?? instanceType,
                gpu: labels["nvidia.com/gpu.present"] === "true" || labels["mlops-testbed/node-role"] === "gpu",
                instanceType,
                capacityType: i.capacityType === "SPOT" ? "spot" : "on-demand",
                minSize: sc.minSize ?? 0,
                maxSize: sc.maxSize ?? 0,
                desiredSize: sc.desiredSize ?? sc.minSize ?? 0,
                diskGiB: diskGiBOf(r, resources),
            } satisfies NodePool;
        });
}

/** Load balancers the plan creates directly: AWS ELBs and Kubernetes Services of type LoadBalancer. */
export function loadBalancersOf(resources: readonly CostResource[]): number {
    return resources.filter((r) => {
        if (r.type === "aws:lb/loadBalancer:LoadBalancer" || r.type === "aws:alb/loadBalancer:LoadBalancer")
            return true;
        if (r.type !== "kubernetes:core/v1:Service") return false;
        return (r.inputs["spec"] as { type?: string } | undefined)?.type === "LoadBalancer";
    }).length;
}

/** The cost inputs of an AWS stack: counts and node groups from the plan, region and volume size from config. */
export function costInputs(
    resources: readonly CostResource[],
    config: { aws?: { region: string }; monitoring: { storageSize: string } },
): CostInputs {
    if (!config.aws) throw new Error("no aws.region in the config: only AWS stacks have a price table");
    return {
        region: config.aws.region,
        clusters: count(resources, "eks:index:Cluster", "aws:eks/cluster:Cluster"),
        natGateways: count(resources, "aws:ec2/natGateway:NatGateway"),
        natInstances: resources
            .filter((r) => r.type === "aws:ec2/instance:Instance")
            .map((r) => {
                const type = r.inputs["instanceType"];
                if (typeof type !== "string") throw new Error("an EC2 instance in the plan has no instanceType");
                return type;
            }),
        publicIpv4: count(resources, "aws:ec2/eip:Eip"),
        kmsKeys: count(resources, "aws:kms/key:Key"),
        loadBalancers: loadBalancersOf(resources),
        pools: nodePoolsOf(resources),
        volumeGiB: quantityGiB(config.monitoring.storageSize),
    };
}

export function regionPrices(region: string): RegionPrices {
    const prices = (AWS_PRICES as Record<string, RegionPrices>)[region];
    if (!prices)
        throw new Error(
            `no prices for region ${region}; add it to AWS_PRICES in tools/bench/prices.ts (have: ${Object.keys(AWS_PRICES).join(", ")})`,
        );
    return prices;
}

export function instanceHourPrice(
    prices: RegionPrices,
    region: string,
    instanceType: string,
    capacityType: NodePool["capacityType"],
): number {
    const onDemand = prices.instanceHour[instanceType];
    if (onDemand === undefined) {
        throw new Error(
            `no price for ${instanceType} in ${region}; add it to AWS_PRICES["${region}"].instanceHour in tools/bench/prices.ts`,
        );
    }
    return capacityType === "spot" ? onDemand * SPOT_PRICE_FACTOR : onDemand;
}

/** Nodes each pool runs: system pools at desiredSize, GPU pools at minSize, the first GPU pool at least `busyGpuNodes`. */
export function runningNodes(pools: readonly NodePool[], busyGpuNodes: number): number[] {
    const firstGpu = pools.findIndex((p) => p.gpu);
    return pools.map((p, i) =>
        !p.gpu ? p.desiredSize : i === firstGpu ? Math.max(p.minSize, busyGpuNodes) : p.minSize,
    );
}

/**
 * Monthly cost with `busyGpuNodes` nodes of the first GPU pool running all month (0: idle, every GPU pool at
 * its minSize). Throws, naming the table to extend, when a region or instance type has no price.
 */
export function monthlyCost(inputs: CostInputs, busyGpuNodes: number): MonthlyCost {
    if (!Number.isInteger(busyGpuNodes) || busyGpuNodes < 0)
        throw new Error(`busyGpuNodes must be a whole number >= 0 (got ${busyGpuNodes})`);
    const p = regionPrices(inputs.region);
    const lines: CostLine[] = [];
    const hourly = (item: string, quantity: number, unit: string, unitPrice: number) =>
        lines.push({
            item,
            quantity,
            unit,
            unitPrice,
            monthly: quantity * unitPrice * HOURS_PER_MONTH,
            assumed: false,
        });
    const monthly = (item: string, quantity: number, unit: string, unitPrice: number, assumed = false) =>
        lines.push({ item, quantity, unit, unitPrice, monthly: quantity * unitPrice, assumed });

    hourly("EKS control plane", inputs.clusters, "cluster-hour", p.eksControlPlaneHour);
    hourly("NAT gateways", inputs.natGateways, "gateway-hour", p.natGatewayHour);
    for (const type of new Set(inputs.natInstances)) {
        const n = inputs.natInstances.filter((t) => t === type).length;
        hourly(`NAT instances (${type})`, n, "instance-hour", instanceHourPrice(p, inputs.region, type, "on-demand"));
        monthly(`NAT instances (${type}) disks`, n * NAT_INSTANCE_DISK_GIB, "GB-month gp3", p.ebsGp3GBMonth);
    }
    hourly("Public IPv4 (NAT EIPs)", inputs.publicIpv4, "address-hour", p.publicIpv4Hour);
    const nodes = runningNodes(inputs.pools, busyGpuNodes);
    inputs.pools.forEach((pool, i) => {
        const label = `${pool.gpu ? "GPU" : "system"} nodes ${pool.name} (${pool.instanceType}, ${pool.capacityType})`;
        hourly(label, nodes[i], "node-hour", instanceHourPrice(p, inputs.region, pool.instanceType, pool.capacityType));
        monthly(`${label} disks`, nodes[i] * pool.diskGiB, "GB-month gp3", p.ebsGp3GBMonth);
    });
    hourly("Load balancers", inputs.loadBalancers, "LB-hour", p.loadBalancerHour);
    monthly("KMS keys", inputs.kmsKeys, "key-month", p.kmsKeyMonth);
    monthly("Prometheus volume", inputs.volumeGiB, "GB-month gp3", p.ebsGp3GBMonth);
    monthly("S3 artifacts (assumed size)", ASSUMED_STORAGE_GB.s3, "GB-month", p.s3GBMonth, true);
    monthly("ECR images (assumed size)", ASSUMED_STORAGE_GB.ecr, "GB-month", p.ecrGBMonth, true);

    const total = lines.reduce((s, l) => s + l.monthly, 0);
    return {
        region: inputs.region,
        busyGpuNodes,
        lines,
        total,
        perGB: [
            // A NAT instance bills no processing, only its hours (and egress, as everything).
            ...(inputs.natGateways > 0 ? [{ item: "NAT gateway data processed", usdPerGB: p.natGatewayPerGB }] : []),
            { item: "CloudWatch Logs ingested (control-plane logs)", usdPerGB: p.logsIngestPerGB },
        ],
    };
}
