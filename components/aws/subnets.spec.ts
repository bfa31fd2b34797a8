/**
 * Subnet planning, on its own (no plan): exact subnets for known VPCs, the bounds it refuses, and for any VPC and
 * zone count subnets inside the VPC, aligned to their size and disjoint (property).
 */
import * as assert from "node:assert/strict";
import * as fc from "fast-check";
import { intToIp, ipToInt } from "../../contract/ipv4";
import { planSubnets } from "./subnets";

/** First and last address of a CIDR, as integers. */
function range(cidr: string): [number, number] {
    const [ip, bits] = cidr.split("/");
    const size = 2 ** (32 - Number(bits));
    return [ipToInt(ip), ipToInt(ip) + size - 1];
}

describe("aws: subnet planning", () => {
    it("converts addresses to integers and back, over the whole IPv4 range", () => {
        assert.equal(ipToInt("0.0.0.0"), 0);
        assert.equal(ipToInt("10.0.0.1"), 167772161);
        assert.equal(ipToInt("255.255.255.255"), 4294967295);
        assert.equal(intToIp(167772161), "10.0.0.1");
        assert.equal(intToIp(4294967295), "255.255.255.255");
        assert.equal(intToIp(0), "0.0.0.0");
        fc.assert(fc.property(fc.ipV4(), (ip) => intToIp(ipToInt(ip)) === ip));
    });

    it("a /16 over three zones: private /19s from the start, public /21s in the last eighth", () => {
        assert.deepEqual(planSubnets("10.0.0.0/16", 3), {
            privateCidrs: ["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"],
            publicCidrs: ["10.0.224.0/21", "10.0.232.0/21", "10.0.240.0/21"],
        });
    });

    it("aligns a base address that is not the network's to the network", () => {
        assert.deepEqual(planSubnets("10.1.77.9/20", 1), {
            privateCidrs: ["10.1.64.0/23"],
            publicCidrs: ["10.1.78.0/25"],
        });
        assert.deepEqual(planSubnets("172.16.0.0/8", 4).privateCidrs, [
            "172.0.0.0/11",
            "172.32.0.0/11",
            "172.64.0.0/11",
            "172.96.0.0/11",
        ]);
        assert.deepEqual(planSubnets("172.16.0.0/8", 4).publicCidrs, [
            "172.224.0.0/13",
            "172.232.0.0/13",
            "172.240.0.0/13",
            "172.248.0.0/13",
        ]);
    });

    it("refuses VPCs outside /8../20 and zone counts outside 1..4, naming the value", () => {
        for (const cidr of ["10.0.0.0/7", "10.0.0.0/21", "10.0.0.0/x", "10.0.0.0"])
            assert.throws(() => planSubnets(cidr, 2), new RegExp(`VPC CIDR ${cidr} must be between /8 and /20`));
        for (const zones of [0, 5, Number.NaN])
            assert.throws(() => planSubnets("10.0.0.0/16", zones), new RegExp(`zones must be 1 to 4, got ${zones}`));
        assert.equal(planSubnets("10.0.0.0/8", 1).privateCidrs.length, 1);
        assert.equal(planSubnets("10.0.0.0/20", 4).publicCidrs.length, 4);
    });

    it("any VPC and zone count: one private and one public subnet per zone, inside the VPC, aligned, disjoint (property)", () => {
        fc.assert(
            fc.property(
                fc.ipV4(),
                fc.integer({ min: 8, max: 20 }),
                fc.integer({ min: 1, max: 4 }),
                (ip, bits, zones) => {
                    const vpc = `${ip}/${bits}`;
                    const [vpcStart, vpcEnd] = range(
                        `${intToIp(ipToInt(ip) - (ipToInt(ip) % 2 ** (32 - bits)))}/${bits}`,
                    );
                    const plan = planSubnets(vpc, zones);
                    assert.equal(plan.privateCidrs.length, zones);
                    assert.equal(plan.publicCidrs.length, zones);
                    assert.ok(plan.privateCidrs.every((c) => c.endsWith(`/${bits + 3}`)));
                    assert.ok(plan.publicCidrs.every((c) => c.endsWith(`/${bits + 5}`)));
                    const all = [...plan.privateCidrs, ...plan.publicCidrs].map(range);
                    for (const [start, end] of all) {
                        assert.ok(start >= vpcStart && end <= vpcEnd, `${vpc}: inside`);
                        assert.equal(start % (end - start + 1), 0, `${vpc}: aligned`);
                    }
                    const sorted = [...all].sort((a, b) => a[0] - b[0]);
                    for (let i = 1; i < sorted.length; i++)
                        assert.ok(sorted[i][0] > sorted[i - 1][1], `${vpc}: disjoint`);
                },
            ),
        );
    });
});
