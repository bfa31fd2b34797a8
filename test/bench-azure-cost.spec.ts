import * as assert from "node:assert/strict";
import { validateStackConfig } from "../infra/config";
import { type AzureCostInputs, azureCostInputs, azureMonthlyCost, diskTier } from "../tools/bench/azure-cost";
import { AZURE_DAYS_PER_MONTH, AZURE_PRICES, AZURE_SPOT_PRICE_FACTOR } from "../tools/bench/azure-prices";
import type { CostResource, NodePool } from "../tools/bench/cost";
import { ASSUMED_STORAGE_GB, HOURS_PER_MONTH } from "../tools/bench/prices";
import { clusterRequests, cpuCores, memoryGiB, valuesRequests } from "../tools/bench/requests";
import { loadStack } from "../tools/stack";
import { planStack } from "./harness";

const near = (a: number, b: number, msg?: string) => assert.ok(Math.abs(a - b) < 1e-6, `${msg ?? ""} ${a} != ${b}`);

const system: NodePool = {
    name: "system",
    gpu: false,
    instanceType: "Standard_D4s_v5",
    capacityType: "on-demand",
    minSize: 2,
    maxSize: 3,
    desiredSize: 2,
    diskGiB: 64,
};
const t4: NodePool = {
    name: "t4",
    gpu: true,
    instanceType: "Standard_NC4as_T4_v3",
    capacityType: "spot",
    minSize: 0,
    maxSize: 2,
    desiredSize: 0,
    diskGiB: 128,
};
const base: AzureCostInputs = {
    location: "westeurope",
    aksTier: "Free",
    pools: [system, t4],
    loadBalancerServices: 1,
    registrySku: "Premium",
    storageSku: "Standard_LRS",
    volumeGiB: 20,
};

describe("bench cost: Azure", () => {
    it("prices an idle AKS stack line by line from the table", () => {
        const p = AZURE_PRICES.westeurope;
        const idle = azureMonthlyCost(base, 0);
        const expected =
            HOURS_PER_MONTH * (2 * p.vmHour.Standard_D4s_v5 + p.loadBalancerHour + 2 * p.publicIpHour) +
            2 * 10.21 + // two P6 OS disks
            AZURE_DAYS_PER_MONTH * p.registryDay.Premium +
            2.4 + // E4 volume
            ASSUMED_STORAGE_GB.s3 * p.blobHotGBMonth.Standard_LRS;
        near(idle.total, expected);
        assert.equal(idle.region, "westeurope");
        assert.equal(idle.lines.find((l) => l.item.startsWith("GPU nodes t4"))!.quantity, 0);
    });

    it("adds the Standard tier fee and one spot VM and OS disk per busy GPU node", () => {
        const p = AZURE_PRICES.westeurope;
        near(
            azureMonthlyCost({ ...base, aksTier: "Standard" }, 0).total - azureMonthlyCost(base, 0).total,
            HOURS_PER_MONTH * 0.1,
        );
        near(
            azureMonthlyCost(base, 2).total - azureMonthlyCost(base, 1).total,
            HOURS_PER_MONTH * p.vmHour.Standard_NC4as_T4_v3 * AZURE_SPOT_PRICE_FACTOR + 19.71,
        );
    });

    it("bills a disk at the smallest tier it fits, and names the table to extend", () => {
        const tiers = AZURE_PRICES.westeurope.premiumSsd;
        assert.equal(diskTier(tiers, 64).tier, "P6");
        assert.equal(diskTier(tiers, 65).tier, "P10");
        assert.throws(() => diskTier(tiers, 5000), /no disk tier holds 5000 GiB/);
        assert.throws(() => azureMonthlyCost({ ...base, location: "mars" }, 0), /no prices for location mars/);
        assert.throws(
            () => azureMonthlyCost({ ...base, pools: [{ ...system, instanceType: "Standard_X9" }] }, 0),
            /no price for Standard_X9 in westeurope.*vmHour/,
        );
    });

    it("lists every line with its quantity, unit, unit price and monthly figure", () => {
        // westeurope: Standard tier $0.10/h, D4s_v5 $0.23/h, NC4as_T4_v3 $0.602/h (spot at 40 %: $0.2408/h),
        // P6 $10.21 and P10 $19.71 a disk-month, LB $0.025/h, IPv4 $0.005/h, Premium registry $1.667/day over
        // 730/24 days, E4 $2.40, Hot LRS $0.0196/GB-month; 730 hours.
        const cost = azureMonthlyCost({ ...base, aksTier: "Standard" }, 1);
        const expected: [string, number, string, number, number, boolean][] = [
            ["AKS control plane (Standard tier)", 1, "cluster-hour", 0.1, 73, false],
            ["system nodes system (Standard_D4s_v5, pay-as-you-go)", 2, "VM-hour", 0.23, 335.8, false],
            [
                "system nodes system (Standard_D4s_v5, pay-as-you-go) OS disks",
                2,
                "disk-month Premium SSD P6",
                10.21,
                20.42,
                false,
            ],
            ["GPU nodes t4 (Standard_NC4as_T4_v3, spot)", 1, "VM-hour", 0.2408, 175.784, false],
            [
                "GPU nodes t4 (Standard_NC4as_T4_v3, spot) OS disks",
                1,
                "disk-month Premium SSD P10",
                19.71,
                19.71,
                false,
            ],
            ["Standard Load Balancer", 1, "LB-hour", 0.025, 18.25, false],
            ["Public IPv4 (outbound, LoadBalancer Services)", 2, "address-hour", 0.005, 7.3, false],
            ["Container registry (Premium)", 730 / 24, "registry-day", 1.667, 50.70458333, false],
            ["Prometheus volume (managed-csi)", 1, "disk-month Standard SSD E4", 2.4, 2.4, false],
            ["Blob artifacts (Standard_LRS, assumed size)", 100, "GB-month Hot", 0.0196, 1.96, true],
        ];
        assert.deepEqual(
            cost.lines.map((l) => [l.item, l.unit, l.assumed]),
            expected.map(([item, , unit, , , assumed]) => [item, unit, assumed]),
        );
        cost.lines.forEach((l, i) => {
            near(l.quantity, expected[i][1], `${l.item} quantity`);
            near(l.unitPrice, expected[i][3], `${l.item} unit price`);
            near(l.monthly, expected[i][4], `${l.item} monthly`);
        });
        near(cost.total, 705.32858333);
        assert.deepEqual(cost.perGB, [
            { item: "Log Analytics ingested (control-plane logs)", usdPerGB: 2.99 },
            { item: "Load Balancer data processed", usdPerGB: 0.005 },
        ]);
        // No registry and no storage account: no line for either.
        assert.deepEqual(
            azureMonthlyCost({ ...base, registrySku: null, storageSku: null }, 0).lines.map((l) => l.item),
            [
                "AKS control plane (Free tier)",
                "system nodes system (Standard_D4s_v5, pay-as-you-go)",
                "system nodes system (Standard_D4s_v5, pay-as-you-go) OS disks",
                "GPU nodes t4 (Standard_NC4as_T4_v3, spot)",
                "GPU nodes t4 (Standard_NC4as_T4_v3, spot) OS disks",
                "Standard Load Balancer",
                "Public IPv4 (outbound, LoadBalancer Services)",
                "Prometheus volume (managed-csi)",
            ],
        );
        assert.throws(() => azureMonthlyCost(base, -1), /^Error: busyGpuNodes must be a whole number >= 0 \(got -1\)$/);
        assert.throws(() => azureMonthlyCost(base, 1.5), /whole number >= 0 \(got 1\.5\)/);
    });

    it("reads the pools, SKUs and Services from a plan: sizes, counts, disks and GPU pools in config order", () => {
        const r = (type: string, inputs: Record<string, unknown> = {}): CostResource => ({ type, inputs });
        const config = {
            azure: { location: "eastus" },
            monitoring: { storageSize: "64Gi" },
            gpuNodePools: [{ name: "t4" }, { name: "a100" }],
        };
        const agentPool = (inputs: Record<string, unknown>) => r("azure-native:containerservice:AgentPool", inputs);
        const inputs = azureCostInputs(
            [
                r("azure-native:resources:ResourceGroup", { sku: { name: "Standard_ZRS" } }),
                r("azure-native:containerservice:ManagedCluster", {
                    sku: { tier: "Premium" },
                    agentPoolProfiles: [
                        { name: "system", vmSize: "Standard_D4s_v5", count: 3, osDiskSizeGB: 64 },
                        { vmSize: "Standard_D2s_v5", minCount: 1, maxCount: 4, count: 2 },
                        { name: "batch", vmSize: "Standard_D8s_v5", minCount: 1, maxCount: 3 },
                    ],
                }),
                agentPool({
                    agentPoolName: "gpu2",
                    vmSize: "Standard_NC24ads_A100_v4",
                    minCount: 0,
                    maxCount: 1,
                    nodeLabels: { "nvidia.com/gpu.present": "true", "mlops-testbed/gpu-pool": "a100" },
                }),
                agentPool({
                    agentPoolName: "t4",
                    name: "t4-pool",
                    vmSize: "Standard_NC4as_T4_v3",
                    scaleSetPriority: "Spot",
                    minCount: 0,
                    maxCount: 2,
                    nodeLabels: { "mlops-testbed/node-role": "gpu" },
                }),
                r("azure-native:containerregistry:Registry"),
                r("kubernetes:core/v1:Service", { spec: { type: "LoadBalancer" } }),
                r("kubernetes:core/v1:Service", { spec: { type: "LoadBalancer" } }),
                r("azure-native:storage:StorageAccount", { sku: { name: "Standard_ZRS" } }),
            ],
            config,
        );
        assert.deepEqual(
            inputs.pools.map((p) => [
                p.name,
                p.gpu,
                p.instanceType,
                p.capacityType,
                p.minSize,
                p.maxSize,
                p.desiredSize,
                p.diskGiB,
            ]),
            [
                ["system", false, "Standard_D4s_v5", "on-demand", 3, 3, 3, 64],
                ["Standard_D2s_v5", false, "Standard_D2s_v5", "on-demand", 1, 4, 2, 128],
                ["batch", false, "Standard_D8s_v5", "on-demand", 1, 3, 1, 128],
                ["t4", true, "Standard_NC4as_T4_v3", "spot", 0, 2, 0, 128],
                ["a100", true, "Standard_NC24ads_A100_v4", "on-demand", 0, 1, 0, 128],
            ],
        );
        assert.deepEqual(
            { ...inputs, pools: [] },
            {
                location: "eastus",
                aksTier: "Premium",
                pools: [],
                loadBalancerServices: 2,
                // A registry or storage account without a SKU is priced at the provider's default.
                registrySku: "Basic",
                storageSku: "Standard_ZRS",
                volumeGiB: 64,
            },
        );
        const bare = azureCostInputs(
            [
                r("azure-native:containerservice:ManagedCluster"),
                r("azure-native:containerregistry:Registry", { sku: { name: "Standard" } }),
                r("azure-native:storage:StorageAccount"),
            ],
            config,
        );
        assert.deepEqual(
            [bare.aksTier, bare.pools, bare.registrySku, bare.storageSku],
            ["Free", [], "Standard", "Standard_LRS"],
        );
        const none = azureCostInputs([r("azure-native:containerservice:ManagedCluster")], config);
        assert.deepEqual([none.registrySku, none.storageSku, none.loadBalancerServices], [null, null, 0]);
    });

    it("refuses a plan it cannot price, saying what is missing", () => {
        const r = (type: string, inputs: Record<string, unknown> = {}): CostResource => ({ type, inputs });
        const config = { azure: { location: "westeurope" }, monitoring: { storageSize: "20Gi" }, gpuNodePools: [] };
        const cluster = (inputs: Record<string, unknown> = {}) =>
            r("azure-native:containerservice:ManagedCluster", inputs);
        assert.throws(
            () => azureCostInputs([cluster()], { monitoring: { storageSize: "20Gi" }, gpuNodePools: [] }),
            /^Error: no azure\.location in the config: not an Azure stack$/,
        );
        assert.throws(() => azureCostInputs([], config), /^Error: expected one AKS cluster in the plan, found 0$/);
        assert.throws(
            () => azureCostInputs([cluster(), cluster()], config),
            /^Error: expected one AKS cluster in the plan, found 2$/,
        );
        assert.throws(
            () => azureCostInputs([cluster({ agentPoolProfiles: [{ name: "system", count: 2 }] })], config),
            /^Error: a node pool in the plan has no vmSize$/,
        );
        assert.throws(
            () => azureCostInputs([cluster({ sku: { tier: "Ultra" } })], config),
            /^Error: AKS tier "Ultra": no price \(have Free, Standard, Premium\)$/,
        );
        assert.throws(
            () =>
                azureCostInputs(
                    [cluster(), r("azure-native:containerregistry:Registry", { sku: { name: "Gold" } })],
                    config,
                ),
            /^Error: registry SKU "Gold": no price \(have Basic, Standard, Premium\)$/,
        );
        assert.throws(
            () =>
                azureCostInputs(
                    [cluster(), r("azure-native:storage:StorageAccount", { sku: { name: "Premium_LRS" } })],
                    config,
                ),
            /^Error: storage SKU "Premium_LRS": no price \(have Standard_LRS, Standard_ZRS\)$/,
        );
        assert.throws(
            () => azureMonthlyCost({ ...base, location: "mars" }, 0),
            /azure-prices\.ts \(have: westeurope, eastus\)$/,
        );
    });

    it("derives azure-example's inputs from its plan and config", async () => {
        const stack = loadStack("azure-example");
        const config = validateStackConfig(stack.config, stack.secretKeys).config!;
        const inputs = azureCostInputs((await planStack("azure-example")).resources, config);
        assert.equal(inputs.location, "westeurope");
        assert.equal(inputs.aksTier, "Free");
        assert.deepEqual(
            inputs.pools.map((p) => [p.name, p.gpu, p.capacityType, p.minSize, p.maxSize]),
            [
                ["system", false, "on-demand", 2, 3],
                ["t4", true, "spot", 0, 2],
                ["a100", true, "on-demand", 0, 1],
            ],
        );
        assert.equal(inputs.registrySku, "Premium");
        assert.equal(inputs.loadBalancerServices, 1);
        assert.ok(azureMonthlyCost(inputs, 2).total > azureMonthlyCost(inputs, 0).total);
    });
});

describe("bench: what a stack adds to an existing cluster", () => {
    it("reads CPU and memory quantities", () => {
        assert.equal(cpuCores("250m"), 0.25);
        assert.equal(cpuCores("2"), 2);
        assert.equal(memoryGiB("512Mi"), 0.5);
        near(memoryGiB("1G"), 1e9 / 2 ** 30);
        assert.throws(() => cpuCores("lots"), /not a CPU quantity/);
        // Numbers as written in a manifest (cores, bytes), decimals and padding; anything around a quantity is refused.
        assert.equal(cpuCores(1.5), 1.5);
        assert.equal(cpuCores("1.25"), 1.25);
        assert.equal(cpuCores("1.5"), 1.5);
        assert.equal(cpuCores(" 500m "), 0.5);
        assert.throws(() => cpuCores("x1"), /^Error: not a CPU quantity: "x1"$/);
        assert.throws(() => cpuCores("1x"), /^Error: not a CPU quantity: "1x"$/);
        assert.equal(memoryGiB(2 ** 31), 2);
        assert.equal(memoryGiB("1073741824"), 1);
        assert.equal(memoryGiB("1.25Gi"), 1.25);
        assert.equal(memoryGiB("1.5Gi"), 1.5);
        assert.equal(memoryGiB(" 2Gi "), 2);
        assert.throws(() => memoryGiB("x1Gi"), /^Error: not a memory quantity: "x1Gi"$/);
        assert.throws(() => memoryGiB("1Gix"), /^Error: not a memory quantity: "1Gix"$/);
        assert.throws(() => memoryGiB("lots"), /^Error: not a memory quantity: "lots"$/);
    });

    it("finds every request in Helm values, with its path, either resource alone, times replicas beside it", () => {
        assert.deepEqual(
            valuesRequests({
                resources: { requests: { cpu: "100m" } },
                controller: { replicas: 2, resources: { requests: { memory: "256Mi" }, limits: { cpu: "1" } } },
                workers: [{ resources: { requests: { cpu: 1 } } }, { replicaCount: 3, resources: { requests: {} } }],
                sidecars: [
                    { image: "x" },
                    { replicaCount: 4, resources: { requests: { cpu: "250m", memory: 2 ** 30 } } },
                ],
            }),
            [
                { name: "(top level)", cpuCores: 0.1, memoryGiB: 0 },
                { name: "controller", cpuCores: 0, memoryGiB: 0.5 },
                { name: "workers[0]", cpuCores: 1, memoryGiB: 0 },
                { name: "sidecars[1]", cpuCores: 1, memoryGiB: 4 },
            ],
        );
        assert.deepEqual(valuesRequests(undefined), []);
        assert.deepEqual(valuesRequests("text"), []);
    });

    it("counts a workload without requests, containers or a spec as nothing, and lists it", () => {
        const workload = (name: string, spec?: unknown) => ({
            name,
            type: "kubernetes:apps/v1:StatefulSet",
            inputs: spec === undefined ? {} : { spec },
        });
        const r = clusterRequests([
            workload("no-spec"),
            workload("no-template", { replicas: 2 }),
            workload("no-pod-spec", { template: {} }),
            workload("no-containers", { template: { spec: {} } }),
            workload("no-resources", {
                replicas: 3,
                template: { spec: { containers: [{ image: "x" }, { resources: {} }] } },
            }),
            workload("cpu-only", {
                replicas: 3,
                template: { spec: { containers: [{ resources: { requests: { cpu: "500m" } } }] } },
            }),
        ]);
        assert.deepEqual(
            r.workloads.map((w) => [w.name, w.cpuCores, w.memoryGiB]),
            [
                ["no-spec", 0, 0],
                ["no-template", 0, 0],
                ["no-pod-spec", 0, 0],
                ["no-containers", 0, 0],
                ["no-resources", 0, 0],
                ["cpu-only", 1.5, 0],
            ],
        );
        assert.deepEqual([r.cpuCores, r.memoryGiB, r.loadBalancers, r.notCounted], [1.5, 0, 0, []]);
    });

    it("sums workloads by replicas, DaemonSets once, Helm values with their replica counts", () => {
        const pod = (cpu: string, memory: string) => ({
            template: { spec: { containers: [{ resources: { requests: { cpu, memory } } }] } },
        });
        const r = clusterRequests([
            {
                name: "web",
                type: "kubernetes:apps/v1:Deployment",
                inputs: { spec: { replicas: 2, ...pod("100m", "1Gi") } },
            },
            { name: "agent", type: "kubernetes:apps/v1:DaemonSet", inputs: { spec: pod("50m", "512Mi") } },
            {
                name: "chart",
                type: "kubernetes:helm.sh/v3:Release",
                inputs: {
                    values: { server: { replicaCount: 3, resources: { requests: { cpu: "1", memory: "1Gi" } } } },
                },
            },
            { name: "bare", type: "kubernetes:helm.sh/v3:Release", inputs: { values: { image: "x" } } },
            { name: "release", type: "kubernetes:yaml/v2:ConfigFile", inputs: { file: "https://example/r.yaml" } },
        ]);
        near(r.cpuCores, 0.2 + 0.05 + 3);
        near(r.memoryGiB, 2 + 0.5 + 3);
        assert.deepEqual(r.notCounted, ["release (release manifest)", "bare (chart defaults)"]);
        // A DaemonSet counts once even if its inputs carry a replica count.
        const daemon = clusterRequests([
            {
                name: "agent",
                type: "kubernetes:apps/v1:DaemonSet",
                inputs: { spec: { replicas: 3, ...pod("1", "1Gi") } },
            },
        ]);
        assert.deepEqual([daemon.cpuCores, daemon.memoryGiB], [1, 1]);
    });

    it("reports existing-example's requests, and what it cannot count", async () => {
        const r = clusterRequests((await planStack("existing-example")).resources);
        assert.ok(r.cpuCores > 0.5 && r.memoryGiB > 1, `${r.cpuCores} CPU, ${r.memoryGiB} GiB`);
        assert.ok(r.workloads.some((w) => w.name === "monitoring-stack: prometheus.prometheusSpec"));
        assert.ok(r.notCounted.includes("tekton-pipelines (release manifest)"), r.notCounted.join(", "));
        assert.equal(r.loadBalancers, 1);
    });
});
