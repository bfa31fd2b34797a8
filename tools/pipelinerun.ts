/**
 * Prints a PipelineRun for one of the testbed's pipelines, ready for `kubectl create -f -`:
 *
 *   npm run pipelinerun --silent -- <pipeline> --param model=iris --param version=v2 --param git-url=<repo> [--stack prod]
 *
 * Each task runs as its role's service account (trainer, builder, deployer); with `pipelines.trainingGpus` > 0 in
 * the stack's config, training runs on GPU nodes. Exit codes: 0 printed, 2 bad arguments or config.
 */
import { PIPELINE_NAMES } from "../pipelines/pipelines";
import { pipelineRun, RunError } from "../pipelines/core/runs";
import { loadStack, PROJECT_ROOT, yaml } from "./stack";
import { runAsScript, UsageError } from "./cli";

export const USAGE = `Usage: npm run pipelinerun --silent -- <pipeline> [--param <name>=<value>]... [--stack <name>]

Prints a PipelineRun of one of the pipelines (${PIPELINE_NAMES.join(", ")}), ready for \`kubectl create -f -\`:
each task as its role's service account, GPU placement per the stack's pipelines.trainingGpus.

Options:
  --param <name>=<value>   A param of the pipeline (repeatable); every param without a default is required
  --stack <name>           Stack whose config to read (default: dev)
  -h, --help               Show this help

Exit codes: 0 printed, 2 bad arguments or configuration.`;

/** The PipelineRun as YAML; `root` is the directory of the stack files (default: the project's). */
export function buildRun(argv: readonly string[], root = PROJECT_ROOT): string {
    const [name, ...rest] = argv;
    if (name?.startsWith("-")) throw new RunError(`unknown argument ${name}: the first argument is the pipeline`);
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
    const s = loadStack(stack, {}, root);
    // Loaded once the arguments are good: the config schema and the platforms load the SDK, which --help and a
    // refused argument need not.
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { formatIssues, validateStackConfig } = require("../infra/config") as typeof import("../infra/config");
    const { allTasks, renderPipelines } = require("../pipelines") as typeof import("../pipelines");
    const { platformEntry } = require("../infra/platforms") as typeof import("../infra/platforms");
    /* eslint-enable @typescript-eslint/no-require-imports */
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
            gpuScheduling: platformEntry(config).gpuScheduling(),
            storageClass: platformEntry(config).storageClass(),
        },
    );
    return yaml().stringify(run, { lineWidth: 0 });
}

// A RunError (bad arguments or configuration) is a usage error: its message, the usage, exit code 2.
runAsScript(module, USAGE, (argv) => {
    try {
        process.stdout.write(buildRun(argv));
        return 0;
    } catch (err) {
        throw err instanceof RunError ? new UsageError(err.message) : err;
    }
});
