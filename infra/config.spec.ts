import * as assert from "node:assert/strict";
import { formatIssues, validateConfig } from "./config";

const AWS = { cloud: "aws", aws: { region: "us-east-1" } } as const;
const issuesOf = (raw: Record<string, unknown>, secretKeys?: string[]) =>
    validateConfig(raw, secretKeys ? { secretKeys } : {}).issues;

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
});
