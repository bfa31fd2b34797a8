import * as assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { parse } from "yaml";
import { existingGpuScheduling } from "../components/existing/platform";
import { azureGpuScheduling } from "../components/azure/platform";
import { awsGpuScheduling } from "../components/aws/platform";
import { type ConfigFor, validateStackConfig } from "../infra/config";
import { PLATFORMS } from "../infra/platforms";
import { buildRun } from "../tools/pipelinerun";
import { loadStack } from "../tools/stack";
import { exposition, groupUrl, parseArgs, push, UsageError } from "../tools/record-manual-delivery";
import type { Json } from "./json";

describe("record-manual-delivery", () => {
    it("pushes the lead time and result with mode=manual, in the pipelines' grouping, to the Pushgateway", async () => {
        const received: { method?: string; url?: string; body: string }[] = [];
        const server = http.createServer((req, res) => {
            let body = "";
            req.on("data", (c) => (body += c));
            req.on("end", () => {
                received.push({ method: req.method, url: req.url, body });
                res.writeHead(200).end();
            });
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        const port = (server.address() as AddressInfo).port;
        try {
            const d = parseArgs(
                [
                    "--model",
                    "iris",
                    "--version",
                    "v3",
                    "--started",
                    "2026-11-02T09:00:00Z",
                    "--finished",
                    "2026-11-02T09:45:30Z",
                    "--pushgateway",
                    `http://127.0.0.1:${port}`,
                ],
                0,
            );
            await push(d);
        } finally {
            server.close();
        }
        assert.deepEqual(received, [
            {
                method: "PUT",
                url: "/metrics/job/mlops-delivery/task/deploy-new-version/run/manual-20261102t090000z/model/iris/version/v3/mode/manual/part/delivery",
                body: [
                    "# TYPE mlops_delivery_result gauge",
                    'mlops_delivery_result{namespace="iris-v3"} 1',
                    "# TYPE mlops_deploy_lead_time_seconds gauge",
                    'mlops_deploy_lead_time_seconds{namespace="iris-v3"} 2730',
                    "# TYPE mlops_delivery_rollbacks gauge",
                    'mlops_delivery_rollbacks{namespace="iris-v3"} 0',
                    "# TYPE mlops_delivery_end_timestamp_seconds gauge",
                    `mlops_delivery_end_timestamp_seconds{namespace="iris-v3"} ${Date.parse("2026-11-02T09:45:30Z") / 1000}`,
                    "",
                ].join("\n"),
            },
        ]);
    });

    it("records a failed delivery without a lead time, and finishes now by default", () => {
        const d = parseArgs(["--model", "iris", "--version", "v3", "--started", "1000", "--result", "failure"], 1600);
        assert.equal(d.finished, 1600);
        assert.equal(
            exposition(d),
            [
                '# TYPE mlops_delivery_result gauge\nmlops_delivery_result{namespace="iris-v3"} 0',
                '# TYPE mlops_delivery_rollbacks gauge\nmlops_delivery_rollbacks{namespace="iris-v3"} 0',
                '# TYPE mlops_delivery_end_timestamp_seconds gauge\nmlops_delivery_end_timestamp_seconds{namespace="iris-v3"} 1600\n',
            ].join("\n"),
        );
        assert.equal(
            groupUrl({ ...d, pushgateway: "http://pg:9091/" }),
            "http://pg:9091/metrics/job/mlops-delivery/task/deploy-new-version/run/manual-19700101t001640z/model/iris/version/v3/mode/manual/part/delivery",
        );
    });

    it("records a recovering task's time to recover and its rollback, under the given run id", () => {
        const d = parseArgs(
            [
                "--model",
                "iris",
                "--version",
                "v2",
                "--started",
                "1000",
                "--finished",
                "1090",
                "--task",
                "rollback-bad-version",
                "--run",
                "study1-ana",
            ],
            0,
        );
        assert.match(groupUrl(d), /\/task\/rollback-bad-version\/run\/study1-ana\//);
        const body = exposition(d);
        assert.match(body, /^mlops_recovery_time_seconds\{namespace="iris-v2"\} 90$/m);
        assert.match(body, /^mlops_delivery_rollbacks\{namespace="iris-v2"\} 1$/m);
        assert.doesNotMatch(body, /mlops_deploy_lead_time_seconds/);
    });

    it("refuses bad arguments with a message naming the flag", () => {
        const bad: [string[], RegExp][] = [
            [["--model", "iris", "--version", "v3"], /--started is required/],
            [["--model", "Iris", "--version", "v3", "--started", "1"], /--model must be a DNS label/],
            [
                ["--model", "iris", "--version", "v3", "--started", "yesterday"],
                /--started must be Unix seconds or an ISO 8601 time/,
            ],
            [["--model", "iris", "--version", "v3", "--started", "10", "--finished", "5"], /before --started/],
            [["--model", "iris", "--version", "v3", "--started", "1", "--result", "maybe"], /success or failure/],
            [["--colour", "red"], /unknown argument --colour/],
            [
                ["--model", "iris", "--version", "v3", "--started", "1", "--task", "deploy"],
                /--task must be one of deploy-new-version, /,
            ],
            [["--model", "iris", "--version", "v3", "--started", "1", "--run", "Run 1"], /--run must be a DNS label/],
        ];
        for (const [argv, message] of bad)
            assert.throws(
                () => parseArgs(argv, 100),
                (e: unknown) => e instanceof UsageError && message.test(e.message),
                argv.join(" "),
            );
    });
});

describe("pipelinerun", () => {
    it("prints a PipelineRun for the stack, each task under its service account", () => {
        const run = parse(
            buildRun([
                "train-and-deploy",
                "--param",
                "model=iris",
                "--param",
                "version=v2",
                "--param",
                "git-url=https://example.com/m.git",
            ]),
        );
        assert.equal(run.kind, "PipelineRun");
        assert.equal(run.metadata.namespace, "pipelines");
        assert.deepEqual(run.spec.pipelineRef, { name: "train-and-deploy" });
        assert.equal(
            run.spec.taskRunSpecs.find((s: Json) => s.pipelineTaskName === "deploy").serviceAccountName,
            "deployer",
        );
        assert.throws(() => buildRun(["nope"]), /one of train, deploy/);
        assert.throws(() => buildRun(["rollback", "--param", "model=iris"]), /needs --param version=/);
    });

    it("places GPU training where the stack's platform puts GPU pods, on every cloud", () => {
        const config = <C extends "aws" | "azure" | "existing">(stack: string, cloud: C) => {
            const c = validateStackConfig(loadStack(stack).config, loadStack(stack).secretKeys).config!;
            assert.equal(c.cloud, cloud);
            return c as ConfigFor<C>;
        };
        const existing = config("existing-example", "existing");
        assert.deepEqual(PLATFORMS.existing.gpuScheduling(existing), existingGpuScheduling(existing.existing.gpu));
        const azure = config("azure-example", "azure");
        assert.deepEqual(
            PLATFORMS.azure.gpuScheduling(azure),
            azureGpuScheduling(azure.gpuNodePools.some((p) => p.capacityType === "spot")),
        );
        assert.deepEqual(PLATFORMS.aws.gpuScheduling(config("dev", "aws")), awsGpuScheduling());
        const relabelled = {
            ...existing,
            existing: {
                ...existing.existing,
                gpu: { ...existing.existing.gpu, nodeLabel: { key: "accelerator", value: "t4" } },
            },
        };
        assert.deepEqual(
            PLATFORMS.existing.gpuScheduling(relabelled).nodeSelector,
            { accelerator: "t4" },
            "an existing cluster's own GPU label, not AWS's",
        );
    });
});
