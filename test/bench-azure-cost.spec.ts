import * as assert from "node:assert/strict";
import { validateStackConfig } from "../infra/config";
import { type AzureCostInputs, azureCostInputs, azureMonthlyCost, diskTier } from "../tools/bench/azure-cost";
import { AZURE_DAYS_PER_MONTH, AZURE_PRICES, AZURE_SPOT_PRICE_FACTOR } from "../tools/bench/azure-prices";
import type { NodePool } from "../tools/bench/cost";
import { ASSUMED_STORAGE_GB, HOURS_PER_MONTH } from "../tools/bench/prices";
import { clusterRequests, cpuCores, memoryGiB } from "../tools/bench/requests";
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
    });

    it("reports existing-example's requests, and what it cannot count", async () => {
        const r = clusterRequests((await planStack("existing-example")).resources);
        assert.ok(r.cpuCores > 0.5 && r.memoryGiB > 1, `${r.cpuCores} CPU, ${r.memoryGiB} GiB`);
        assert.ok(r.workloads.some((w) => w.name === "monitoring-stack: prometheus.prometheusSpec"));
        assert.ok(r.notCounted.includes("tekton-pipelines (release manifest)"), r.notCounted.join(", "));
        assert.equal(r.loadBalancers, 1);
    });
});
