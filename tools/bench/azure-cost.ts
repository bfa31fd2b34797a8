/**
 * Monthly cost of an Azure stack from what its plan would create and its config: the AKS tier, the system pool
 * (in the ManagedCluster) and every AgentPool (size, priority, counts, OS disk), the cluster's Standard Load Balancer
 * and its public IPs (outbound, one per LoadBalancer Service), the registry SKU, the storage account's redundancy,
 * the Prometheus volume from `monitoring.storageSize`, and the prices in tools/bench/azure-prices.ts. Same shape
 * as the AWS estimate (tools/bench/cost.ts), so the benchmark prints both alike.
 *
 * Pure functions over plain data.
 */
import {
    AZURE_DAYS_PER_MONTH,
    AZURE_PRICES,
    AZURE_SPOT_PRICE_FACTOR,
    type AzureLocationPrices,
    type DiskTier,
} from "./azure-prices";
import {
    type CostLine,
    type CostResource,
    loadBalancersOf,
    type MonthlyCost,
    type NodePool,
    quantityGiB,
    runningNodes,
} from "./cost";
import { ASSUMED_STORAGE_GB, HOURS_PER_MONTH } from "./prices";

const AKS_TIERS = ["Free", "Standard", "Premium"] as const;
const REGISTRY_SKUS = ["Basic", "Standard", "Premium"] as const;
const STORAGE_SKUS = ["Standard_LRS", "Standard_ZRS"] as const;

export interface AzureCostInputs {
    readonly location: string;
    readonly aksTier: (typeof AKS_TIERS)[number];
    readonly pools: readonly NodePool[];
    /** Services of type LoadBalancer: each a rule and a public IP on the cluster's one Standard Load Balancer. */
    readonly loadBalancerServices: number;
    readonly registrySku: (typeof REGISTRY_SKUS)[number] | null;
    readonly storageSku: (typeof STORAGE_SKUS)[number] | null;
    /** Persistent volumes the stack sizes in config (the Prometheus volume), GiB. */
    readonly volumeGiB: number;
}

interface PoolInputs {
    vmSize?: string;
    count?: number;
    minCount?: number;
    maxCount?: number;
    osDiskSizeGB?: number;
    scaleSetPriority?: string;
    mode?: string;
    nodeLabels?: Record<string, string>;
    name?: string;
    agentPoolName?: string;
}

function pool(p: PoolInputs): NodePool {
    if (!p.vmSize) throw new Error("a node pool in the plan has no vmSize");
    const labels = p.nodeLabels ?? {};
    const gpu = labels["nvidia.com/gpu.present"] === "true" || labels["mlops-testbed/node-role"] === "gpu";
    return {
        name: labels["mlops-testbed/gpu-pool"] ?? p.agentPoolName ?? p.name ?? p.vmSize,
        gpu,
        instanceType: p.vmSize,
        capacityType: p.scaleSetPriority === "Spot" ? "spot" : "on-demand",
        minSize: p.minCount ?? p.count ?? 0,
        maxSize: p.maxCount ?? p.count ?? 0,
        desiredSize: p.count ?? p.minCount ?? 0,
        // AKS's default OS disk size.
        diskGiB: p.osDiskSizeGB ?? 128,
    };
}

const oneOf = <T extends string>(allowed: readonly T[], value: unknown, what: string, fallback: T | null) => {
    if (value === undefined) return fallback;
    if (!allowed.includes(value as T))
        throw new Error(`${what} ${JSON.stringify(value)}: no price (have ${allowed.join(", ")})`);
    return value as T;
};

/** The cost inputs of an Azure stack: pools, SKUs and counts from the plan, location and volume size from config. */
export function azureCostInputs(
    resources: readonly CostResource[],
    config: {
        azure?: { location: string };
        monitoring: { storageSize: string };
        gpuNodePools: readonly { name: string }[];
    },
): AzureCostInputs {
    if (!config.azure) throw new Error("no azure.location in the config: not an Azure stack");
    const clusters = resources.filter((r) => r.type === "azure-native:containerservice:ManagedCluster");
    if (clusters.length !== 1) throw new Error(`expected one AKS cluster in the plan, found ${clusters.length}`);
    const cluster = clusters[0].inputs as { sku?: { tier?: string }; agentPoolProfiles?: PoolInputs[] };
    const order = (p: NodePool) => config.gpuNodePools.findIndex((g) => g.name === p.name);
    const registry = resources.find((r) => r.type === "azure-native:containerregistry:Registry");
    const account = resources.find((r) => r.type === "azure-native:storage:StorageAccount");
    return {
        location: config.azure.location,
        aksTier: oneOf(AKS_TIERS, cluster.sku?.tier, "AKS tier", "Free")!,
        pools: [
            ...(cluster.agentPoolProfiles ?? []).map(pool),
            // In config order: the first GPU pool is the one the busy scenarios run.
            ...resources
                .filter((r) => r.type === "azure-native:containerservice:AgentPool")
                .map((r) => pool(r.inputs as PoolInputs))
                .sort((a, b) => order(a) - order(b)),
        ],
        loadBalancerServices: loadBalancersOf(resources),
        registrySku: registry
            ? oneOf(REGISTRY_SKUS, (registry.inputs["sku"] as { name?: string })?.name, "registry SKU", "Basic")
            : null,
        storageSku: account
            ? oneOf(STORAGE_SKUS, (account.inputs["sku"] as { name?: string })?.name, "storage SKU", "Standard_LRS")
            : null,
        volumeGiB: quantityGiB(config.monitoring.storageSize),
    };
}

export function azureLocationPrices(location: string): AzureLocationPrices {
    const prices = (AZURE_PRICES as Record<string, AzureLocationPrices>)[location];
    if (!prices)
        throw new Error(
            `no prices for location ${location}; add it to AZURE_PRICES in tools/bench/azure-prices.ts (have: ${Object.keys(AZURE_PRICES).join(", ")})`,
        );
    return prices;
}

/** The smallest tier a disk of `gib` fits. */
export function diskTier(tiers: readonly DiskTier[], gib: number): DiskTier {
    const tier = tiers.find((t) => gib <= t.maxGiB);
    if (!tier) throw new Error(`no disk tier holds ${gib} GiB; add one to tools/bench/azure-prices.ts`);
    return tier;
}

/**
 * Monthly cost with `busyGpuNodes` nodes of the first GPU pool running all month (0: idle, every pool at its
 * minimum, the system pool at its count). Throws, naming the table to extend, when a location or size has no price.
 */
export function azureMonthlyCost(inputs: AzureCostInputs, busyGpuNodes: number): MonthlyCost {
    if (!Number.isInteger(busyGpuNodes) || busyGpuNodes < 0)
        throw new Error(`busyGpuNodes must be a whole number >= 0 (got ${busyGpuNodes})`);
    const p = azureLocationPrices(inputs.location);
    const lines: CostLine[] = [];
    const add = (item: string, quantity: number, unit: string, unitPrice: number, perHour: boolean, assumed = false) =>
        lines.push({
            item,
            quantity,
            unit,
            unitPrice,
            monthly: quantity * unitPrice * (perHour ? HOURS_PER_MONTH : 1),
            assumed,
        });

    add(`AKS control plane (${inputs.aksTier} tier)`, 1, "cluster-hour", p.aksTierHour[inputs.aksTier], true);
    const nodes = runningNodes(inputs.pools, busyGpuNodes);
    inputs.pools.forEach((pool, i) => {
        const onDemand = (p.vmHour as Record<string, number>)[pool.instanceType];
        if (onDemand === undefined)
            throw new Error(
                `no price for ${pool.instanceType} in ${inputs.location}; add it to AZURE_PRICES["${inputs.location}"].vmHour in tools/bench/azure-prices.ts`,
            );
        const hour = pool.capacityType === "spot" ? onDemand * AZURE_SPOT_PRICE_FACTOR : onDemand;
        const label = `${pool.gpu ? "GPU" : "system"} nodes ${pool.name} (${pool.instanceType}, ${pool.capacityType === "spot" ? "spot" : "pay-as-you-go"})`;
        add(label, nodes[i], "VM-hour", hour, true);
        const disk = diskTier(p.premiumSsd, pool.diskGiB);
        add(`${label} OS disks`, nodes[i], `disk-month Premium SSD ${disk.tier}`, disk.month, false);
    });
    // AKS puts outbound rules and every LoadBalancer Service on one Standard Load Balancer (five rules included).
    add("Standard Load Balancer", 1, "LB-hour", p.loadBalancerHour, true);
    add(
        "Public IPv4 (outbound, LoadBalancer Services)",
        1 + inputs.loadBalancerServices,
        "address-hour",
        p.publicIpHour,
        true,
    );
    if (inputs.registrySku)
        add(
            `Container registry (${inputs.registrySku})`,
            AZURE_DAYS_PER_MONTH,
            "registry-day",
            p.registryDay[inputs.registrySku],
            false,
        );
    const volume = diskTier(p.standardSsd, inputs.volumeGiB);
    add("Prometheus volume (managed-csi)", 1, `disk-month Standard SSD ${volume.tier}`, volume.month, false);
    if (inputs.storageSku)
        add(
            `Blob artifacts (${inputs.storageSku}, assumed size)`,
            ASSUMED_STORAGE_GB.s3,
            "GB-month Hot",
            p.blobHotGBMonth[inputs.storageSku],
            false,
            true,
        );

    return {
        region: inputs.location,
        busyGpuNodes,
        lines,
        total: lines.reduce((s, l) => s + l.monthly, 0),
        perGB: [
            { item: "Log Analytics ingested (control-plane logs)", usdPerGB: p.logAnalyticsPerGB },
            { item: "Load Balancer data processed", usdPerGB: p.loadBalancerPerGB },
        ],
    };
}
