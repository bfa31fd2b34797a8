import * as assert from "node:assert/strict";
import fc from "fast-check";
import { validateStackConfig } from "../infra/config";
import {
    type CostInputs,
    costInputs,
    monthlyCost,
    type NodePool,
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
            /no prices for region ap-south-2.*tools\/bench\/prices\.ts/,
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
            assert.equal(
                inputs.natGateways,
                config.network.natGateways === "single" ? 1 : config.network.availabilityZones,
            );
            assert.deepEqual(
                inputs.pools.filter((p) => p.gpu).map((p) => p.name),
                config.gpuNodePools.map((p) => p.name),
            );
            const firstGpu = config.gpuNodePools[0];
            const busy = monthlyCost(inputs, firstGpu?.maxSize ?? 0);
            assert.ok(busy.total >= monthlyCost(inputs, 0).total);
        });
    }
});
