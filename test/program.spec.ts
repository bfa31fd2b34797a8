import * as assert from "node:assert/strict";
import { parseRawConfig } from "../infra/config";
import { OUTPUT_KEYS, SECRET_OUTPUT_KEYS } from "../infra/outputs";
import { devicePluginValues } from "../components/gpu/nvidia-device-plugin";
import { CHARTS } from "../contract/versions";
import { SECRET_PLACEHOLDER, type Plan } from "../tools/mock-runtime";
import { chartFactsOf, unknownValueKeys } from "./upstream-facts";
import type { CloudName } from "../contract/clouds";
import { listStacks, loadStack } from "../tools/stack";
import { findResource, planStack, resourcesOfType } from "./harness";
import type { Json } from "./json";

const plans: Record<string, Plan> = {};

/** Every stack file of the project and the cloud it plans. */
const STACK_CLOUDS: Record<string, CloudName> = {
    dev: "aws",
    prod: "aws",
    "azure-example": "azure",
    "existing-example": "existing",
    "existing-shared-example": "existing",
};

before(async () => {
    for (const stack of Object.keys(STACK_CLOUDS)) plans[stack] = await planStack(stack);
});

it("the stack files checked here are all the project has", () => {
    assert.deepEqual(listStacks(), Object.keys(STACK_CLOUDS).sort());
});

for (const [stack, cloud] of Object.entries(STACK_CLOUDS)) {
    describe(`whole program: ${stack}`, () => {
        it("exports exactly the documented output keys, in order", () => {
            assert.deepEqual(Object.keys(plans[stack].outputs), [...OUTPUT_KEYS]);
        });

        it("keeps secret outputs secret", () => {
            for (const key of SECRET_OUTPUT_KEYS) {
                const v = plans[stack].outputs[key];
                assert.ok(v === null || v === SECRET_PLACEHOLDER, `${key} is ${JSON.stringify(v)}`);
            }
            assert.equal(plans[stack].outputs.kubeconfig, SECRET_PLACEHOLDER);
        });

        it("gives every custom resource an explicit provider", () => {
            for (const r of plans[stack].resources) {
                if (!r.custom || r.type.startsWith("pulumi:providers:")) continue;
                // Random values depend on no ambient account, region or cluster.
                if (r.type.startsWith("random:")) continue;
                assert.ok(r.provider, `${r.type} ${r.name} has no explicit provider`);
                assert.doesNotMatch(
                    r.provider!,
                    /::default(_[0-9_]+)?::/,
                    `${r.type} ${r.name} uses a default provider`,
                );
            }
        });

        it(`plans the ${cloud} platform`, () => {
            assert.equal(plans[stack].outputs.cloud, cloud);
            assert.equal(resourcesOfType(plans[stack], `mlops-testbed:${cloud}:Platform`).length, 1);
        });

        if (cloud === "aws") {
            it("configures the AWS provider with the stack's region and tags", () => {
                const p = findResource(plans[stack], "pulumi:providers:aws", "aws-aws");
                assert.equal(p.inputs.region, "eu-west-1");
                // Provider inputs reach the engine JSON-encoded.
                const tags = JSON.parse(String(p.inputs.defaultTags)).tags;
                assert.deepEqual(tags, { project: "mlops-testbed", stack, "managed-by": "pulumi" });
            });
        }

        it("never shows a kubeconfig or password in clear anywhere in the plan", () => {
            const text = JSON.stringify(plans[stack].resources);
            assert.doesNotMatch(text, /get-token/, "kubeconfig content leaked into inputs");
            // A CA bundle as a value (the promotion step's script names the key, which leaks nothing).
            assert.doesNotMatch(text, /certificate-authority-data\\?["']?\s*:\s*\\?["']?[A-Za-z0-9+/=]{20,}/);
        });

        it("names every resource after its parent component", () => {
            const byUrn = new Map(plans[stack].resources.map((r) => [r.urn, r]));
            for (const r of plans[stack].resources) {
                const parent = r.parent ? byUrn.get(r.parent) : undefined;
                if (parent && parent.type.startsWith("mlops-testbed:"))
                    assert.ok(r.name.startsWith(`${parent.name}-`), `${r.name} under ${parent.name}`);
            }
        });
    });
}

describe("whole program: outputs", () => {
    it("dev outputs describe the cluster, pools and stores", () => {
        const o = plans.dev.outputs as Json;
        assert.equal(o.cloud, "aws");
        assert.equal(o.region, "eu-west-1");
        assert.equal(o.clusterName, "mlops-testbed-dev");
        assert.deepEqual(o.gpuNodePools, [
            {
                name: "t4",
                instanceTypes: ["g4dn.xlarge", "g4dn.2xlarge"],
                capacityType: "spot",
                minSize: 0,
                maxSize: 2,
            },
        ]);
        assert.deepEqual(Object.keys(o.artifactStore), [
            "kind",
            "modelsBucket",
            "datasetsBucket",
            "region",
            "endpoint",
        ]);
        assert.equal(o.artifactStore.kind, "s3");
        assert.equal(o.artifactStore.endpoint, null);
        assert.equal(o.artifactStore.modelsBucket, "[computed]");
    });
});

describe("helm values against the pinned charts", () => {
    it("the NVIDIA device plugin values are all keys of chart 0.20.0", () => {
        const values = findResource(plans.dev, "kubernetes:helm.sh/v3:Release", "aws-nvidia-release").inputs.values;
        assert.deepEqual(unknownValueKeys(values, [chartFactsOf(CHARTS.nvidiaDevicePlugin).keys]), []);
    });

    it("the checker catches a key the chart does not have", () => {
        const values = {
            ...devicePluginValues({
                resourceName: "nvidia.com/gpu",
                nodeLabel: { key: "a", value: "b" },
                nodeSelector: {},
                tolerations: [],
            }),
            devicePlugn: { enabled: true },
        };
        const keys = chartFactsOf(CHARTS.nvidiaDevicePlugin).keys;
        assert.deepEqual(unknownValueKeys(values, [keys]), ["devicePlugn"]);
        assert.deepEqual(unknownValueKeys({ gfd: { enabld: true } }, [keys]), ["gfd.enabld"]);
    });
});

describe("whole program: dev and prod switch cloud by config alone", () => {
    /** The cloud-specific keys of an example stack file, laid over dev or prod; everything else stays. */
    const cloudKeys = (example: string, keys: readonly string[]): Record<string, unknown> => {
        const { config, secretKeys } = loadStack(example);
        const raw = parseRawConfig(config);
        // A secret value stays a secret (the offline plan only sees that it is one).
        return Object.fromEntries(
            keys.map((k) => [k, secretKeys.includes(`mlops-testbed:${k}`) ? { secure: "AAABAPLACEHOLDER" } : raw[k]]),
        );
    };
    const SWITCHES: Record<"azure" | "existing", Record<string, unknown>> = {
        azure: cloudKeys("azure-example", ["cloud", "azure", "cluster", "gpuNodePools"]),
        existing: { ...cloudKeys("existing-example", ["cloud", "kubeconfig", "existing"]), gpuNodePools: undefined },
    };
    const modelLayer = (plan: Plan) => ({
        namespaces: plan.outputs.modelNamespaces,
        endpoints: plan.outputs.modelEndpoints,
    });

    for (const stack of ["dev", "prod"]) {
        for (const [cloud, overrides] of Object.entries(SWITCHES)) {
            it(`${stack} plans on ${cloud} with only the cloud keys changed, with the same model layer`, async () => {
                const plan = await planStack(stack, overrides);
                assert.equal(plan.outputs.cloud, cloud);
                assert.deepEqual(Object.keys(plan.outputs), [...OUTPUT_KEYS]);
                assert.deepEqual(modelLayer(plan), modelLayer(plans[stack]));
            });
        }
    }
});
