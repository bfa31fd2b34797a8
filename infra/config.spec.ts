import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { ConfigError, formatIssues, loadConfig, parseRawConfig, validateConfig, validateStackConfig } from "./config";

const AWS = { cloud: "aws", aws: { region: "us-east-1" } } as const;
const issuesOf = (raw: Record<string, unknown>, secretKeys?: string[]) =>
    validateConfig(raw, secretKeys ? { secretKeys } : {}).issues;
const PLAIN_KUBECONFIG = {
    key: "mlops-testbed:kubeconfig",
    message:
        "holds credentials and must be a secret: pulumi config set --secret kubeconfig < path/to/file (the value is not shown here)",
};
/** An existing cluster with an external store, whose keys come from the (secret) storeCredentials. */
const externalStore = () => ({
    cloud: "existing",
    existing: {
        imageRegistry: "registry.example.com/m",
        store: {
            kind: "external",
            endpoint: "https://s3.example.com",
            region: "us-east-1",
            buckets: { models: "models-1", datasets: "datasets-1" },
        },
    },
    kubeconfig: "apiVersion: v1",
});

describe("config validation (infra/config.ts): the rules around the schema", () => {
    it("formats one problem in the singular and shows a value only when there is one", () => {
        assert.equal(
            formatIssues([{ key: "mlops-testbed:kubeconfig", message: "must be a secret" }]),
            "Invalid configuration: 1 problem found. Fix these keys in Pulumi.<stack>.yaml:\n  - mlops-testbed:kubeconfig: must be a secret",
        );
        assert.equal(
            formatIssues([
                { key: "mlops-testbed:cloud", message: "must be one of aws, azure, existing", value: "gcp" },
                { key: "mlops-testbed:pipelines.trainingGpus", message: "too many", value: 9 },
            ]),
            'Invalid configuration: 2 problems found. Fix these keys in Pulumi.<stack>.yaml:\n  - mlops-testbed:cloud: must be one of aws, azure, existing (got "gcp")\n  - mlops-testbed:pipelines.trainingGpus: too many (got 9)',
        );
    });

    it("refuses a kubeconfig set in plain text, naming the command, and accepts it as a secret", () => {
        const raw = { cloud: "existing", existing: { imageRegistry: "registry.example.com/m" }, kubeconfig: "k: v" };
        assert.deepEqual(issuesOf(raw), [
            {
                key: "mlops-testbed:kubeconfig",
                message:
                    "holds credentials and must be a secret: pulumi config set --secret kubeconfig < path/to/file (the value is not shown here)",
            },
        ]);
        assert.deepEqual(issuesOf(raw, ["kubeconfig"]), []);
    });

    it("never echoes a secret key's value, even when it fails the schema", () => {
        const issues = issuesOf({ ...AWS, storeCredentials: "hunter2" }, ["storeCredentials"]);
        assert.equal(issues.length, 1);
        assert.equal(issues[0].key, "mlops-testbed:storeCredentials");
        assert.ok(!("value" in issues[0]), "no value on a secret key's issue");
        assert.ok(!formatIssues(issues).includes("hunter2"));
    });

    it("asks for each cloud's own section: azure.location and an Azure VM size; existing's registry and kubeconfig", () => {
        assert.deepEqual(
            issuesOf({ cloud: "azure" }).map((i) => i.key),
            ["mlops-testbed:azure", "mlops-testbed:cluster.systemNodes.instanceTypes"],
        );
        assert.deepEqual(
            issuesOf({ cloud: "existing" }).map((i) => i.key),
            ["mlops-testbed:existing", "mlops-testbed:kubeconfig"],
        );
    });

    it("requires a GPU node pool for GPU training, also when another section fails", () => {
        const noPool = {
            key: "mlops-testbed:pipelines.trainingGpus",
            message: "training on GPUs needs a GPU node pool: add one to gpuNodePools or set trainingGpus to 0",
            value: 1,
        };
        assert.deepEqual(issuesOf({ ...AWS, pipelines: { trainingGpus: 1 } }), [noPool]);
        assert.deepEqual(issuesOf({ ...AWS, network: 5, pipelines: { trainingGpus: 1 } }).slice(1), [noPool]);
        assert.deepEqual(
            issuesOf({ ...AWS, network: 5, pipelines: { trainingGpus: 0 } }).map((i) => i.key),
            ["mlops-testbed:network"],
        );
        assert.deepEqual(issuesOf({ ...AWS, pipelines: { trainingGpus: 0 } }), []);
        const pool = { name: "t4", instanceTypes: ["g4dn.xlarge"], capacityType: "spot", minSize: 0, maxSize: 2 };
        assert.deepEqual(issuesOf({ ...AWS, gpuNodePools: [pool], pipelines: { trainingGpus: 1 } }), []);
        assert.deepEqual(
            issuesOf({ ...AWS, network: 5, gpuNodePools: [pool], pipelines: { trainingGpus: 1 } }).map((i) => i.key),
            ["mlops-testbed:network"],
        );
    });

    it("reports a value that fails several checks with one message once", () => {
        assert.deepEqual(issuesOf({ ...AWS, pipelines: { trainingGpus: -1.5 } }), [
            {
                key: "mlops-testbed:pipelines.trainingGpus",
                message: "trainingGpus must be a whole number from 0 to 8",
                value: -1.5,
            },
        ]);
    });

    it("shows a Secret reference's text at the key under it that fails, instead of calling that key missing", () => {
        const raw = externalStore();
        (raw.existing.store as Record<string, unknown>).credentialsSecret = "Object_Store/keys";
        assert.deepEqual(issuesOf(raw, ["kubeconfig"]), [
            {
                key: "mlops-testbed:existing.store.credentialsSecret.namespace",
                message:
                    "must be a DNS-1123 label: 1-63 lowercase letters, digits or '-', starting and ending with a letter or digit",
                value: "Object_Store/keys",
            },
        ]);
    });

    it("names the allowed keys of an unknown one inside the preprocessed Secret reference and store keys", () => {
        const raw = externalStore();
        (raw.existing.store as Record<string, unknown>).credentialsSecret = {
            namespace: "store",
            name: "keys",
            key: 1,
        };
        assert.deepEqual(issuesOf(raw, ["kubeconfig"]), [
            {
                key: "mlops-testbed:existing.store.credentialsSecret.key",
                message: "unknown key; allowed keys here: namespace, name, accessKeyIdKey, secretAccessKeyKey",
            },
        ]);
        const withKeys = {
            ...externalStore(),
            storeCredentials: { accessKeyId: "a", secretAccessKey: "s", region: "x" },
        };
        assert.deepEqual(issuesOf(withKeys, ["kubeconfig", "storeCredentials"]), [
            {
                key: "mlops-testbed:storeCredentials.region",
                message: "unknown key; allowed keys here: accessKeyId, secretAccessKey",
            },
        ]);
    });

    it("never echoes a value under a secret key either (storeCredentials.secretAccessKey)", () => {
        const raw = { ...externalStore(), storeCredentials: { accessKeyId: "AKIAEXAMPLE", secretAccessKey: 20261203 } };
        assert.deepEqual(issuesOf(raw, ["kubeconfig", "storeCredentials"]), [
            { key: "mlops-testbed:storeCredentials.secretAccessKey", message: "must be the store's secret access key" },
        ]);
    });

    it("judges the models with the default quota when another section fails and quotaDefaults is not set", () => {
        assert.deepEqual(
            issuesOf({ ...AWS, network: 5, models: [{ name: "iris", versions: [{ name: "v1", replicas: 21 }] }] }),
            [
                { key: "mlops-testbed:network", message: "Invalid input: expected object, received number", value: 5 },
                {
                    key: "mlops-testbed:models[0].versions[0].replicas",
                    message:
                        "21 replicas × 1 pod exceed the namespace pod quota of 20; raise versions[0].quota.pods or quotaDefaults.pods, or lower replicas",
                    value: 21,
                },
            ],
        );
    });

    describe("__proto__ keys (own properties, as YAML and JSON parsers make them)", () => {
        it("reports a top-level __proto__ once, as the schema's unknown key", () => {
            const raw = JSON.parse('{"cloud": "aws", "aws": {"region": "us-east-1"}, "__proto__": {"cloud": "azure"}}');
            assert.deepEqual(issuesOf(raw), [
                {
                    key: "mlops-testbed:__proto__",
                    message:
                        "unknown key; allowed keys here: cloud, aws, azure, existing, kubeconfig, storeCredentials, cluster, network, gpuNodePools, artifactStores, registry, models, quotaDefaults, modelGateway, monitoring, pipelines",
                },
            ]);
        });

        it("refuses one in a map the schema would drop silently, beside other problems", () => {
            const raw = JSON.parse(
                '{"cloud": "aws", "aws": {"region": "us-east-1"}, "network": 5, "models": [{"name": "iris", "versions": [{"name": "v1"}], "traffic": {"strategy": "single", "weights": {"v1": 100, "__proto__": 0}}}]}',
            );
            assert.deepEqual(issuesOf(raw), [
                { key: "mlops-testbed:network", message: "Invalid input: expected object, received number", value: 5 },
                {
                    key: "mlops-testbed:models[0].traffic.weights.__proto__",
                    message: "unknown key; __proto__ is never a valid name here",
                },
            ]);
        });

        it("reports one once where two spellings of its path meet (network.x at the top level, x under network)", () => {
            const raw = JSON.parse(
                '{"cloud": "aws", "aws": {"region": "us-east-1"}, "network": {"x": {"__proto__": 1}}, "network.x": {"__proto__": 1}}',
            );
            assert.deepEqual(
                issuesOf(raw).filter((i) => i.key.endsWith("__proto__")),
                [
                    {
                        key: "mlops-testbed:network.x.__proto__",
                        message: "unknown key; __proto__ is never a valid name here",
                    },
                ],
            );
        });
    });
});

describe("reading the stack's config (infra/config.ts): Pulumi's strings and secret keys", () => {
    it("parses JSON structures and plain numbers, booleans and null; keeps every other text as written", () => {
        assert.deepEqual(
            parseRawConfig({
                "mlops-testbed:a": " [1, 2]",
                "mlops-testbed:b": "{not json",
                "mlops-testbed:c": "[secret]",
                "mlops-testbed:d": '"[quoted]"',
                "mlops-testbed:e": "10",
                "mlops-testbed:f": "-1.25",
                "mlops-testbed:g": "1e5",
                "mlops-testbed:h": "true",
                "mlops-testbed:i": "null",
            }),
            { a: [1, 2], b: "{not json", c: "[secret]", d: '"[quoted]"', e: 10, f: -1.25, g: "1e5", h: true, i: null },
        );
    });

    it("keeps a kubeconfig written as JSON as its text, so a JSON kubeconfig validates like a YAML one", () => {
        const json = '{"apiVersion": "v1", "kind": "Config", "clusters": []}';
        const config = {
            "mlops-testbed:cloud": "existing",
            "mlops-testbed:existing": '{"imageRegistry": "registry.example.com/m"}',
            "mlops-testbed:kubeconfig": json,
        };
        assert.deepEqual(parseRawConfig(config).kubeconfig, json);
        assert.deepEqual(validateStackConfig(config, ["mlops-testbed:kubeconfig"]).issues, []);
        // Any other key still reads JSON: the same text under `existing` is an object (and refused as one).
        assert.deepEqual(parseRawConfig({ "mlops-testbed:existing": json }).existing, {
            apiVersion: "v1",
            kind: "Config",
            clusters: [],
        });
    });

    it("counts only this project's keys as secrets: another project's secret kubeconfig leaves ours in plain text", () => {
        const config = {
            "mlops-testbed:cloud": "existing",
            "mlops-testbed:existing": '{"imageRegistry": "registry.example.com/m"}',
            "mlops-testbed:kubeconfig": "apiVersion: v1",
        };
        assert.deepEqual(validateStackConfig(config, ["other-project:kubeconfig"]).issues, [PLAIN_KUBECONFIG]);
        assert.deepEqual(validateStackConfig(config, ["mlops-testbed:kubeconfig"]).issues, []);
    });

    describe("loadConfig, from the runtime config", () => {
        // The runtime config is process-wide: each test sets its own, and the suite's is put back afterwards.
        let saved: Record<string, string>;
        let savedSecrets: string[];
        before(() => {
            saved = pulumi.runtime.allConfig();
            // isConfigSecret is internal to the SDK (not in its typings), as loadConfig reads it.
            const { isConfigSecret } = runtimeConfig as unknown as { isConfigSecret: (key: string) => boolean };
            savedSecrets = Object.keys(saved).filter((k) => isConfigSecret(k));
        });
        after(() => pulumi.runtime.setAllConfig(saved, savedSecrets));

        const existingStack = () => ({
            "mlops-testbed:cloud": "existing",
            "mlops-testbed:existing": '{"imageRegistry": "registry.example.com/m"}',
            "mlops-testbed:kubeconfig": "apiVersion: v1",
            "aws:region": "us-east-1",
        });

        it("returns the validated config when the kubeconfig is a secret", () => {
            pulumi.runtime.setAllConfig(existingStack(), ["mlops-testbed:kubeconfig"]);
            const config = loadConfig();
            assert.ok(config.cloud === "existing");
            assert.equal(config.kubeconfig, "[secret]");
            assert.equal(config.existing.imageRegistry, "registry.example.com/m");
        });

        it("throws a ConfigError listing the problems when the kubeconfig is in plain text", () => {
            pulumi.runtime.setAllConfig(existingStack(), ["aws:region"]);
            assert.throws(
                () => loadConfig(),
                (err: unknown) => {
                    assert.ok(err instanceof ConfigError);
                    assert.equal(err.name, "ConfigError");
                    assert.deepEqual(err.issues, [PLAIN_KUBECONFIG]);
                    assert.equal(
                        err.message,
                        "Invalid configuration: 1 problem found. Fix these keys in Pulumi.<stack>.yaml:\n  - mlops-testbed:kubeconfig: holds credentials and must be a secret: pulumi config set --secret kubeconfig < path/to/file (the value is not shown here)",
                    );
                    return true;
                },
            );
        });
    });
});
