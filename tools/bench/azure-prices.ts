/**
 * Azure list prices the cost estimate uses, USD, pay-as-you-go, Linux.
 *
 * As of: the public Azure pricing pages named below as published through 2025 (AZURE_PRICES_AS_OF). This machine
 * has no network, so they were not re-fetched: check the pages (or the Retail Prices API,
 * https://prices.azure.com/api/retail/prices) before quoting a figure. A size or location missing here makes the
 * benchmark say which one to add rather than guess.
 */

export const AZURE_PRICES_AS_OF = "2025 Azure public price list (not re-fetched; verify on the pages below)";

export const AZURE_PRICE_SOURCES = {
    aks: "https://azure.microsoft.com/pricing/details/kubernetes-service/ (Free tier: no cluster fee; Standard tier per cluster-hour)",
    vm: "https://azure.microsoft.com/pricing/details/virtual-machines/linux/ (pay-as-you-go; spot from the same page)",
    disks: "https://azure.microsoft.com/pricing/details/managed-disks/ (Premium SSD LRS, per disk-month by size tier)",
    loadBalancer:
        "https://azure.microsoft.com/pricing/details/load-balancer/ (Standard: first 5 rules per hour; data processed per GB)",
    publicIp: "https://azure.microsoft.com/pricing/details/ip-addresses/ (Standard static IPv4 per hour)",
    storage: "https://azure.microsoft.com/pricing/details/storage/blobs/ (Block blob, Hot, per GB-month)",
    registry: "https://azure.microsoft.com/pricing/details/container-registry/ (per registry-day by SKU)",
    keyVault:
        "https://azure.microsoft.com/pricing/details/key-vault/ (Standard: software-protected keys, per 10,000 operations)",
    logAnalytics:
        "https://azure.microsoft.com/pricing/details/monitor/ (Analytics Logs ingestion per GB; 31 days retention included)",
} as const;

/** Days in the month Azure bills per-day items by (730 h / 24). */
export const AZURE_DAYS_PER_MONTH = 730 / 24;

/** Premium SSD managed-disk tiers: size (GiB) and price per disk-month; a disk is billed at the smallest tier it fits. */
export interface DiskTier {
    readonly tier: string;
    readonly maxGiB: number;
    readonly month: number;
}

export interface AzureLocationPrices {
    /** AKS cluster fee by tier, per cluster-hour. */
    readonly aksTierHour: Readonly<Record<"Free" | "Standard" | "Premium", number>>;
    /** Virtual machines, per VM-hour (pay-as-you-go). */
    readonly vmHour: Readonly<Record<string, number>>;
    /** Premium SSD LRS tiers: the nodes' OS disks (priced as managed disks; an ephemeral OS disk would cost nothing). */
    readonly premiumSsd: readonly DiskTier[];
    /** Standard SSD LRS tiers: persistent volumes of AKS's `managed-csi` storage class. */
    readonly standardSsd: readonly DiskTier[];
    /** Standard Load Balancer, first 5 rules, per hour. */
    readonly loadBalancerHour: number;
    /** Standard Load Balancer data processed, per GB (not in the totals: depends on traffic). */
    readonly loadBalancerPerGB: number;
    /** Standard static public IPv4, per hour. */
    readonly publicIpHour: number;
    /** Block blob Hot, per GB-month, by redundancy. */
    readonly blobHotGBMonth: Readonly<Record<"Standard_LRS" | "Standard_ZRS", number>>;
    /** Container registry, per registry-day, by SKU. */
    readonly registryDay: Readonly<Record<"Basic" | "Standard" | "Premium", number>>;
    /** Key Vault Standard operations, per 10,000 (not in the totals: depends on use). */
    readonly keyVaultPer10kOps: number;
    /** Log Analytics (Analytics Logs) ingestion, per GB (not in the totals: depends on volume). */
    readonly logAnalyticsPerGB: number;
}

const PREMIUM_SSD: readonly DiskTier[] = [
    { tier: "P4", maxGiB: 32, month: 5.28 },
    { tier: "P6", maxGiB: 64, month: 10.21 },
    { tier: "P10", maxGiB: 128, month: 19.71 },
    { tier: "P15", maxGiB: 256, month: 38.02 },
    { tier: "P20", maxGiB: 512, month: 73.22 },
    { tier: "P30", maxGiB: 1024, month: 135.17 },
];

const STANDARD_SSD: readonly DiskTier[] = [
    { tier: "E2", maxGiB: 8, month: 0.6 },
    { tier: "E3", maxGiB: 16, month: 1.2 },
    { tier: "E4", maxGiB: 32, month: 2.4 },
    { tier: "E6", maxGiB: 64, month: 4.8 },
    { tier: "E10", maxGiB: 128, month: 9.6 },
    { tier: "E15", maxGiB: 256, month: 19.2 },
];

export const AZURE_PRICES = {
    westeurope: {
        aksTierHour: { Free: 0, Standard: 0.1, Premium: 0.6 },
        vmHour: {
            Standard_D2s_v5: 0.115,
            Standard_D4s_v5: 0.23,
            Standard_D8s_v5: 0.46,
            Standard_NC4as_T4_v3: 0.602,
            Standard_NC8as_T4_v3: 0.861,
            Standard_NC24ads_A100_v4: 4.408,
        },
        premiumSsd: PREMIUM_SSD,
        standardSsd: STANDARD_SSD,
        loadBalancerHour: 0.025,
        loadBalancerPerGB: 0.005,
        publicIpHour: 0.005,
        blobHotGBMonth: { Standard_LRS: 0.0196, Standard_ZRS: 0.0246 },
        registryDay: { Basic: 0.167, Standard: 0.667, Premium: 1.667 },
        keyVaultPer10kOps: 0.03,
        logAnalyticsPerGB: 2.99,
    },
    eastus: {
        aksTierHour: { Free: 0, Standard: 0.1, Premium: 0.6 },
        vmHour: {
            Standard_D2s_v5: 0.096,
            Standard_D4s_v5: 0.192,
            Standard_D8s_v5: 0.384,
            Standard_NC4as_T4_v3: 0.526,
            Standard_NC8as_T4_v3: 0.752,
            Standard_NC24ads_A100_v4: 3.673,
        },
        premiumSsd: PREMIUM_SSD,
        standardSsd: STANDARD_SSD,
        loadBalancerHour: 0.025,
        loadBalancerPerGB: 0.005,
        publicIpHour: 0.005,
        blobHotGBMonth: { Standard_LRS: 0.0184, Standard_ZRS: 0.023 },
        registryDay: { Basic: 0.167, Standard: 0.667, Premium: 1.667 },
        keyVaultPer10kOps: 0.03,
        logAnalyticsPerGB: 2.3,
    },
} as const satisfies Record<string, AzureLocationPrices>;

/**
 * Spot price as a fraction of pay-as-you-go. Azure spot prices move with capacity; the pricing page shows T4 and
 * A100 spot discounts well above 60% in these locations, so 0.4 is the same cautious planning figure as on AWS.
 */
export const AZURE_SPOT_PRICE_FACTOR = 0.4;
