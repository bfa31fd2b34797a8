import * as assert from "node:assert/strict";
import { formatIssues, parseRawConfig, validateConfig, validateStackConfig } from "../infra/config";
import { listStacks, loadStack } from "../tools/stack";
import { issueAt, planConfigIssues } from "./harness";

const DEV_POOL = { name: "t4", instanceTypes: ["g4dn.xlarge"], capacityType: "spot", minSize: 0, maxSize: 2 };

/** Raw config of the dev stack as the program sees it, with overrides. */
function devRaw(overrides: Record<string, unknown>): Record<string, unknown> {
    return parseRawConfig(loadStack("dev", overrides).config);
}

describe("config: defaults and parsing", () => {
    it("accepts every stack file as it is, secret kubeconfig included", () => {
        assert.ok(listStacks().includes("existing-example"));
        for (const stack of listStacks()) {
            const result = validateStackConfig(loadStack(stack).config, loadStack(stack).secretKeys);
            assert.deepEqual(result.issues, [], `${stack}: ${formatIssues(result.issues)}`);
        }
    });

    it("fills defaults for every section a stack omits", () => {
        const result = validateConfig({ cloud: "aws", aws: { region: "us-east-1" } });
        assert.ok(result.config, formatIssues(result.issues));
        assert.equal(result.config.cluster.kubernetesVersion, "1.34");
        assert.equal(result.config.network.natGateways, "single");
        assert.equal(result.config.artifactStores.protection, "protected", "the safe default keeps data");
        assert.deepEqual(result.config.gpuNodePools, []);
        assert.deepEqual(result.config.cluster.logTypes, [
            "api",
            "audit",
            "authenticator",
            "controllerManager",
            "scheduler",
        ]);
    });

    it("parses Pulumi's string values: JSON for structures, numbers and booleans for scalars", () => {
        const raw = parseRawConfig({
            "mlops-testbed:cloud": "aws",
            "mlops-testbed:network": '{"availabilityZones":3}',
            "aws:region": "x",
            "mlops-testbed:n": "0",
        });
        assert.deepEqual(raw, { cloud: "aws", network: { availabilityZones: 3 }, n: 0 });
    });

    it("dev and prod differ only where the stack files say so", () => {
        const dev = validateConfig(devRaw({})).config!;
        const prod = validateConfig(parseRawConfig(loadStack("prod").config)).config!;
        assert.equal(dev.artifactStores.protection, "disposable");
        assert.equal(prod.artifactStores.protection, "protected");
        assert.equal(dev.network.natGateways, "single");
        assert.equal(prod.network.natGateways, "one-per-az");
        assert.notDeepEqual(prod.cluster.publicAccessCidrs, ["0.0.0.0/0"], "prod must not expose the API to the world");
    });
});

/** Each case: overrides of the dev stack, the key that must be named, and words the message must contain. */
const BAD_CONFIGS: { title: string; overrides: Record<string, unknown>; key: string; says: RegExp }[] = [
    {
        title: "unknown cloud",
        overrides: { cloud: "gcp" },
        key: "mlops-testbed:cloud",
        says: /one of aws, azure, existing/,
    },
    { title: "missing cloud", overrides: { cloud: undefined }, key: "mlops-testbed:cloud", says: /required/ },
    { title: "aws without a region", overrides: { aws: undefined }, key: "mlops-testbed:aws", says: /aws\.region/ },
    {
        title: "malformed region",
        overrides: { aws: { region: "Ireland" } },
        key: "mlops-testbed:aws.region",
        says: /AWS region such as eu-west-1/,
    },
    {
        title: "minSize > maxSize",
        overrides: { gpuNodePools: [{ ...DEV_POOL, minSize: 3, maxSize: 1 }] },
        key: "mlops-testbed:gpuNodePools[0].maxSize",
        says: /must be >= minSize \(3\)/,
    },
    {
        title: "negative minSize",
        overrides: { gpuNodePools: [{ ...DEV_POOL, minSize: -1 }] },
        key: "mlops-testbed:gpuNodePools[0].minSize",
        says: /whole number from 0 to 1000/,
    },
    {
        title: "fractional maxSize",
        overrides: { gpuNodePools: [{ ...DEV_POOL, maxSize: 1.5 }] },
        key: "mlops-testbed:gpuNodePools[0].maxSize",
        says: /whole number/,
    },
    {
        title: "CPU instance type in a GPU pool",
        overrides: { gpuNodePools: [{ ...DEV_POOL, instanceTypes: ["m5.large"] }] },
        key: "mlops-testbed:gpuNodePools[0].instanceTypes[0]",
        says: /not a GPU instance type.*g5\.xlarge/,
    },
    {
        title: "mixed GPU architectures",
        overrides: { gpuNodePools: [{ ...DEV_POOL, instanceTypes: ["g5.xlarge", "g5g.xlarge"] }] },
        key: "mlops-testbed:gpuNodePools[0].instanceTypes",
        says: /x86_64 and arm64/,
    },
    {
        title: "non-DNS pool name",
        overrides: { gpuNodePools: [{ ...DEV_POOL, name: "GPU_Pool" }] },
        key: "mlops-testbed:gpuNodePools[0].name",
        says: /DNS-1123 label/,
    },
    {
        title: "duplicate pool names",
        overrides: { gpuNodePools: [DEV_POOL, DEV_POOL] },
        key: "mlops-testbed:gpuNodePools[1].name",
        says: /duplicate pool name "t4"/,
    },
    {
        title: "unknown capacity type",
        overrides: { gpuNodePools: [{ ...DEV_POOL, capacityType: "reserved" }] },
        key: "mlops-testbed:gpuNodePools[0].capacityType",
        says: /one of spot, on-demand/,
    },
    {
        title: "empty instance type list",
        overrides: { gpuNodePools: [{ ...DEV_POOL, instanceTypes: [] }] },
        key: "mlops-testbed:gpuNodePools[0].instanceTypes",
        says: /at least one instance type/,
    },
    {
        title: "misspelt top-level key",
        overrides: { gpuNodePool: [] },
        key: "mlops-testbed:gpuNodePool",
        says: /unknown key/,
    },
    {
        title: "misspelt nested key",
        overrides: { network: { cidr: "10.0.0.0/16", natGateway: "single" } },
        key: "mlops-testbed:network.natGateway",
        says: /allowed keys here: cidr, availabilityZones, natGateways/,
    },
    {
        title: "bad VPC CIDR",
        overrides: { network: { cidr: "10.0.0.0/33" } },
        key: "mlops-testbed:network.cidr",
        says: /IPv4 CIDR block/,
    },
    {
        title: "VPC CIDR too small",
        overrides: { network: { cidr: "10.0.0.0/24" } },
        key: "mlops-testbed:network.cidr",
        says: /\/20 or larger/,
    },
    {
        title: "one availability zone",
        overrides: { network: { availabilityZones: 1 } },
        key: "mlops-testbed:network.availabilityZones",
        says: /from 2 to 4/,
    },
    {
        title: "unquoted Kubernetes version",
        overrides: { cluster: { kubernetesVersion: 1.3 } },
        key: "mlops-testbed:cluster.kubernetesVersion",
        says: /quote it in YAML/,
    },
    {
        title: "Kubernetes version without a pinned autoscaler image",
        overrides: { cluster: { kubernetesVersion: "1.29" } },
        key: "mlops-testbed:cluster.kubernetesVersion",
        says: /no pinned cluster-autoscaler image on EKS; use one of "1\.30", .*"1\.34"/,
    },
    {
        title: "unknown endpoint access",
        overrides: { cluster: { endpointAccess: "open" } },
        key: "mlops-testbed:cluster.endpointAccess",
        says: /private, public-and-private, public/,
    },
    {
        title: "system desiredSize outside min..max",
        overrides: { cluster: { systemNodes: { minSize: 2, maxSize: 3, desiredSize: 5 } } },
        key: "mlops-testbed:cluster.systemNodes.desiredSize",
        says: /between minSize \(2\) and maxSize \(3\)/,
    },
    {
        title: "unknown store protection",
        overrides: { artifactStores: { protection: "maybe" } },
        key: "mlops-testbed:artifactStores.protection",
        says: /protected, disposable/,
    },
    {
        title: "admin role that is not a role ARN",
        overrides: { cluster: { adminRoleArns: ["arn:aws:iam::123:user/bob"] } },
        key: "mlops-testbed:cluster.adminRoleArns[0]",
        says: /IAM role ARN/,
    },
    {
        title: "unknown control-plane log type",
        overrides: { cluster: { logTypes: ["api", "everything"] } },
        key: "mlops-testbed:cluster.logTypes[1]",
        says: /api, audit, authenticator/,
    },
    {
        title: "canary steps the promotion step would refuse (falling)",
        overrides: { pipelines: { promotion: { canarySteps: [10, 50, 25, 100] } } },
        key: "mlops-testbed:pipelines.promotion.canarySteps",
        says: /canary weights must rise strictly, e\.g\. \[10, 25, 50, 100\]/,
    },
    {
        title: "canary steps that never reach 100",
        overrides: { pipelines: { promotion: { canarySteps: [10, 50] } } },
        key: "mlops-testbed:pipelines.promotion.canarySteps",
        says: /the last canary weight must be 100/,
    },
];

describe("config: bad configuration is refused before any resource is registered", () => {
    for (const c of BAD_CONFIGS) {
        it(`${c.title} → names ${c.key}`, async () => {
            const issues = await planConfigIssues("dev", c.overrides);
            const issue = issueAt(issues, c.key);
            assert.match(issue.message, c.says);
        });
    }

    it("reports every problem at once, each with the value found", () => {
        const result = validateConfig(
            devRaw({
                cloud: "gcp",
                network: { availabilityZones: 9 },
                gpuNodePools: [{ ...DEV_POOL, minSize: 5, maxSize: 1 }],
            }),
        );
        const keys = result.issues.map((i) => i.key).sort();
        assert.deepEqual(keys, [
            "mlops-testbed:cloud",
            "mlops-testbed:gpuNodePools[0].maxSize",
            "mlops-testbed:network.availabilityZones",
        ]);
        assert.equal(issueAt(result.issues, "mlops-testbed:cloud").value, "gcp");
        assert.equal(issueAt(result.issues, "mlops-testbed:network.availabilityZones").value, 9);
    });

    it("formats issues as one line per key with the value", () => {
        const text = formatIssues([
            { key: "mlops-testbed:cloud", message: "must be one of aws, azure, existing", value: "gcp" },
        ]);
        assert.match(text, /^Invalid configuration: 1 problem found/);
        assert.match(text, / {2}- mlops-testbed:cloud: must be one of aws, azure, existing \(got "gcp"\)/);
    });
});
