import * as assert from "node:assert/strict";
import * as fc from "fast-check";
import { formatIssues, parseRawConfig, validateConfig, validateStackConfig } from "../../infra/config";
import { loadStack } from "../../tools/stack";
import { issueAt } from "../../test/harness";
import {
    AWS_GPU_FAMILIES,
    AWS_SYSTEM_FAMILIES,
    SYSTEM_AMI_TYPES,
    gpuFamilyOf,
    systemAmiType,
    systemArchesOf,
} from "./instance-types";

/** A stack's raw config with its cluster.systemNodes, network and gpuNodePools changed as given. */
function rawWith(
    stack: string,
    change: { systemNodes?: Record<string, unknown>; network?: Record<string, unknown>; gpuNodePools?: unknown[] },
): Record<string, unknown> {
    const raw = parseRawConfig(loadStack(stack).config) as Record<string, Record<string, unknown>>;
    const cluster = raw.cluster ?? {};
    return {
        ...raw,
        cluster: { ...cluster, systemNodes: { ...(cluster.systemNodes as object), ...change.systemNodes } },
        network: { ...raw.network, ...change.network },
        ...(change.gpuNodePools ? { gpuNodePools: change.gpuNodePools } : {}),
    };
}

const issuesOf = (raw: Record<string, unknown>) => validateConfig(raw).issues;
const SYSTEM = "mlops-testbed:cluster.systemNodes";

describe("aws: system node and NAT settings", () => {
    it("dev runs spot system nodes and a NAT instance; prod on-demand nodes and NAT gateways", () => {
        const dev = validateStackConfig(loadStack("dev").config, []).config!;
        const prod = validateStackConfig(loadStack("prod").config, []).config!;
        assert.equal(dev.cluster.systemNodes.capacityType, "spot");
        assert.equal(dev.network.nat, "instance");
        assert.equal(prod.cluster.systemNodes.capacityType, "on-demand");
        assert.equal(prod.network.nat, "gateway");
        assert.equal(prod.network.natGateways, "one-per-az");
    });

    it("defaults to on-demand system nodes and NAT gateways", () => {
        const result = validateConfig({ cloud: "aws", aws: { region: "eu-west-1" } });
        assert.ok(result.config, formatIssues(result.issues));
        assert.equal(result.config.cluster.systemNodes.capacityType, "on-demand");
        assert.equal(result.config.network.nat, "gateway");
    });

    const refused: readonly [string, Parameters<typeof rawWith>[1], string, RegExp][] = [
        [
            "spot with one instance type",
            { systemNodes: { instanceTypes: ["t3a.medium"], capacityType: "spot" } },
            `${SYSTEM}.instanceTypes`,
            /at least 2 instance types when capacityType is spot/,
        ],
        [
            "a family of unknown architecture",
            { systemNodes: { instanceTypes: ["x2iedn.xlarge", "t3a.medium"] } },
            `${SYSTEM}.instanceTypes[0]`,
            /not of a system node family .*use one of m5, m6i/,
        ],
        [
            "x86_64 and arm64 in one group",
            { systemNodes: { instanceTypes: ["t3a.medium", "t4g.medium"] } },
            `${SYSTEM}.instanceTypes`,
            /mixes x86_64 and arm64/,
        ],
        [
            "x86_64 and arm64 GPU families in one pool",
            { gpuNodePools: [{ name: "t4", instanceTypes: ["g4dn.xlarge", "g5g.xlarge"], minSize: 0, maxSize: 1 }] },
            "mlops-testbed:gpuNodePools[0].instanceTypes",
            /mixes x86_64 and arm64 GPU families/,
        ],
        [
            "an unknown capacity type",
            { systemNodes: { capacityType: "preemptible" } },
            `${SYSTEM}.capacityType`,
            /must be one of on-demand, spot/,
        ],
        [
            "an unknown NAT kind",
            { network: { nat: "nat-box" } },
            "mlops-testbed:network.nat",
            /must be one of gateway, instance/,
        ],
    ];
    for (const [what, change, key, message] of refused) {
        it(`refuses ${what}, naming ${key.replace("mlops-testbed:", "")}`, () => {
            issueAt(issuesOf(rawWith("dev", change)), key, message);
        });
    }

    it("reports every problem of the system group and network at once", () => {
        const issues = issuesOf(
            rawWith("dev", {
                systemNodes: { instanceTypes: ["t4g.medium"], capacityType: "spot" },
                network: { nat: "nat-box" },
                gpuNodePools: [{ name: "t4", instanceTypes: ["g4dn.xlarge", "g5g.xlarge"], minSize: 0, maxSize: 1 }],
            }),
        );
        issueAt(issues, `${SYSTEM}.instanceTypes`, /at least 2 instance types/);
        issueAt(issues, "mlops-testbed:gpuNodePools[0].instanceTypes", /mixes x86_64 and arm64 GPU families/);
        issueAt(issues, "mlops-testbed:network.nat", /must be one of gateway, instance/);
    });

    it("accepts arm64 system nodes beside x86_64 GPU pools: model-server images are built for both", () => {
        const raw = rawWith("prod", { systemNodes: { instanceTypes: ["m7g.large", "m6g.large"] } });
        const pools = raw.gpuNodePools as { instanceTypes: string[] }[];
        const gpuArches = pools.flatMap((p) => p.instanceTypes.map((t) => AWS_GPU_FAMILIES[gpuFamilyOf(t)!].arch));
        assert.deepEqual([...new Set(gpuArches)], ["x86_64"]);
        assert.deepEqual(issuesOf(raw), []);
    });

    for (const stack of ["azure-example", "existing-example"]) {
        it(`${stack} refuses spot system nodes and a NAT instance, saying why`, () => {
            const raw = rawWith(stack, { systemNodes: { capacityType: "spot" }, network: { nat: "instance" } });
            if (stack === "existing-example") delete raw.gpuNodePools;
            const issues = issuesOf(raw);
            issueAt(issues, `${SYSTEM}.capacityType`, /spot applies to the EKS system node group only/);
            issueAt(issues, "mlops-testbed:network.nat", /a NAT instance is an AWS VPC option/);
        });
    }

    it("aws.encryptionKeys: customer-managed by default and in prod, aws-managed in dev, anything else refused", () => {
        const keysOf = (raw: Record<string, unknown>) => {
            const config = validateConfig(raw).config;
            return config?.cloud === "aws" ? config.aws.encryptionKeys : undefined;
        };
        assert.equal(keysOf({ cloud: "aws", aws: { region: "eu-west-1" } }), "customer-managed");
        assert.equal(keysOf(rawWith("prod", {})), "customer-managed");
        assert.equal(keysOf(rawWith("dev", {})), "aws-managed");
        const raw = { ...rawWith("dev", {}), aws: { region: "eu-west-1", encryptionKeys: "none" } };
        issueAt(issuesOf(raw), "mlops-testbed:aws.encryptionKeys", /must be one of customer-managed, aws-managed/);
    });

    it("accepts on-demand and gateway, the defaults, on azure-example", () => {
        const raw = rawWith("azure-example", {
            systemNodes: { capacityType: "on-demand" },
            network: { nat: "gateway" },
        });
        assert.deepEqual(issuesOf(raw), []);
    });
});

describe("aws: system node architecture", () => {
    const families = Object.keys(AWS_SYSTEM_FAMILIES) as (keyof typeof AWS_SYSTEM_FAMILIES)[];
    // Independent of the table's arch column: Graviton family names end in "g" after the generation digit.
    const isGraviton = (family: string) => /\dg$/.test(family);

    it("every family's architecture agrees with its name", () => {
        for (const f of families) assert.equal(AWS_SYSTEM_FAMILIES[f].arch, isGraviton(f) ? "arm64" : "x86_64", f);
    });

    it("one architecture gives its AMI type, two are refused by the config and by the helper (property)", () => {
        fc.assert(
            fc.property(
                fc.array(
                    fc.tuple(fc.constantFrom(...families), fc.constantFrom("medium", "large", "xlarge", "2xlarge")),
                    { minLength: 1, maxLength: 5 },
                ),
                (picked) => {
                    const types = picked.map(([f, size]) => `${f}.${size}`);
                    const graviton = picked.filter(([f]) => isGraviton(f)).length;
                    const mixed = graviton > 0 && graviton < picked.length;
                    assert.equal(systemArchesOf(types).length, mixed ? 2 : 1);
                    if (mixed) assert.throws(() => systemAmiType(types), /not of one known architecture/);
                    else
                        assert.equal(
                            systemAmiType(types),
                            graviton > 0 ? SYSTEM_AMI_TYPES.arm64 : SYSTEM_AMI_TYPES.x86_64,
                        );
                    const issues = issuesOf(
                        rawWith("prod", { systemNodes: { instanceTypes: types }, gpuNodePools: [] }),
                    );
                    assert.equal(
                        issues.some((i) => i.key === `${SYSTEM}.instanceTypes` && /mixes/.test(i.message)),
                        mixed,
                        formatIssues(issues),
                    );
                    if (!mixed) assert.deepEqual(issues, []);
                },
            ),
            { numRuns: 200 },
        );
    });
});
