/**
 * Prints a PipelineRun for one of the testbed's pipelines, ready for `kubectl create -f -`:
 *
 *   npm run pipelinerun --silent -- <pipeline> --param model=iris --param version=v2 --param git-url=<repo> [--stack prod]
 *
 * Each task runs as its role's service account (trainer, builder, deployer); with `pipelines.trainingGpus` > 0 in
 * the stack's config, training runs on GPU nodes. Exit codes: 0 printed, 2 bad arguments or config.
 */
import { stringify } from "yaml";
import { AWS_STORAGE_CLASS, awsGpuScheduling } from "../components/aws/platform";
import { AZURE_STORAGE_CLASS, azureGpuScheduling } from "../components/azure/platform";
import { existingGpuScheduling } from "../components/existing/platform";
import type { GpuScheduling } from "../contract/platform";
import type { TestbedConfig } from "../infra/config";
import type { CloudName } from "../contract/config/platform";
import { formatIssues, validateStackConfig } from "../infra/config";
import { allTasks, PIPELINE_NAMES, renderPipelines } from "../pipelines";
import { pipelineRun, RunError } from "../pipelines/runs";
import { loadStack } from "./stack";

export function buildRun(argv: readonly string[]): string {
    const [name, ...rest] = argv;
    if (!name || !(PIPELINE_NAMES as readonly string[]).includes(name))
        throw new RunError(`first argument: one of ${PIPELINE_NAMES.join(", ")}`);
    let stack = "dev";
    const params: Record<string, string> = {};
    for (let i = 0; i < rest.length; i++) {
        if (rest[i] === "--stack") stack = rest[++i] ?? "";
        else if (rest[i] === "--param") {
            const m = /^([a-z0-9-]+)=(.*)$/s.exec(rest[++i] ?? "");
            if (!m) throw new RunError("--param needs name=value");
            params[m[1]] = m[2];
        } else throw new RunError(`unknown argument ${rest[i]}`);
    }
    const s = loadStack(stack);
    const result = validateStackConfig(s.config, s.secretKeys);
    if (!result.config) throw new RunError(formatIssues(result.issues));
    const config = result.config;
    const pipeline = renderPipelines(config.pipelines).find((p) => p.metadata.name === name)!;
    const run = pipelineRun(
        pipeline,
        allTasks({ promotion: config.pipelines.promotion, alerts: config.monitoring.alerts }),
        {
            params,
            trainingGpus: config.pipelines.trainingGpus,
            gpuScheduling: GPU_SCHEDULING[config.cloud](config),
            storageClass: STORAGE_CLASS[config.cloud](config),
        },
    );
    return stringify(run, { lineWidth: 0 });
}

/** The stack's GPU scheduling, as its platform describes it, without building the platform. */
export const GPU_SCHEDULING: Record<CloudName, (config: TestbedConfig) => GpuScheduling> = {
    aws: () => awsGpuScheduling(),
    azure: (c) => azureGpuScheduling(c.gpuNodePools.some((p) => p.capacityType === "spot")),
    existing: (c) => existingGpuScheduling(c.existing!.gpu),
};

/** The stack's storage class for the run's workspace, as its platform names it, without building the platform. */
export const STORAGE_CLASS: Record<CloudName, (config: TestbedConfig) => string | null> = {
    aws: () => AWS_STORAGE_CLASS,
    azure: () => AZURE_STORAGE_CLASS,
    existing: (c) => c.existing!.storageClass ?? null,
};

if (require.main === module) {
    try {
        process.stdout.write(buildRun(process.argv.slice(2)));
    } catch (err) {
        if (!(err instanceof RunError)) throw err;
        process.stderr.write(`${err.message}\n`);
        process.exit(2);
    }
}
