/**
 * Records a manual delivery (the runbook in docs/manual-runbook.md) with the same metrics the pipelines push, labelled
 * mode=manual, so the three delivery modes land on the same dashboard:
 *
 *   npm run record-manual-delivery -- --model iris --version v3 --started 2026-11-02T09:15:00Z [--result success|failure]
 *        [--finished <time, default now>] [--task <study task, default deploy-new-version>] [--run <id>]
 *        [--usage-log <file>] [--eval-accuracy <0-1> --dataset-version <id>] [--concurrency <n>]
 *        [--pushgateway http://localhost:9091]
 *
 * Reach the Pushgateway first with a port-forward (svc/pushgateway-prometheus-pushgateway).
 * Exit codes: 0 pushed, 2 bad arguments, 1 the push failed.
 */
import { runAsScript, UsageError } from "./cli";
import { MONITORING_SERVICES } from "../contract/names";
import { METRICS } from "../contract/metric-contract";
import { STUDY_TASKS, TASK_IDS } from "../contract/study-tasks";
import * as fs from "node:fs";

/** What the commands of a manual delivery used and how a person spent on them, from the usage log. */
export interface ManualUsage {
    /** Commands run: the human actions. */
    actions: number;
    /** Their wall time: the hands-on seconds. */
    handsOnSeconds: number;
    cpuSeconds: number;
    memoryByteSeconds: number;
    gpuSeconds: number;
}

export interface ManualDelivery {
    model: string;
    version: string;
    /** Unix seconds when the delivery was asked for (the trigger). */
    started: number;
    /** Unix seconds when the version served. */
    finished: number;
    succeeded: boolean;
    /** Standardized study task performed (contract/study-tasks.ts). */
    task: string;
    /** Run id, unique per run: the Pushgateway group, so runs never overwrite each other. */
    run: string;
    pushgateway: string;
    /** Deliveries started at once, this one included. */
    concurrency: number;
    /** From --usage-log; undefined: not measured (the report then says "no data"). */
    usage?: ManualUsage;
    /** Evaluation accuracy and dataset version of the model delivered (--eval-accuracy, --dataset-version). */
    evaluation?: { accuracy: number; datasetVersion: string };
}

/**
 * Reads the log `sh pipelines/lib/step_usage.sh command <log> -- <command>` appends to, one line per command:
 * `<start unix s> <wall cs> <cpu ms> <memory kB x cs> <GPU cs> <exit code> <command...>`.
 */
export function parseUsageLog(text: string, file = "usage log"): ManualUsage {
    const u: ManualUsage = { actions: 0, handsOnSeconds: 0, cpuSeconds: 0, memoryByteSeconds: 0, gpuSeconds: 0 };
    text.split("\n").forEach((line, i) => {
        if (!line.trim()) return;
        const f = line.trim().split(/\s+/);
        const n = f.slice(0, 6).map(Number);
        if (f.length < 7 || n.some((x) => !Number.isInteger(x) || x < 0))
            throw new UsageError(`${file} line ${i + 1} is not a line of step_usage.sh command: "${line}"`);
        u.actions += 1;
        u.handsOnSeconds += n[1] / 100;
        u.cpuSeconds += n[2] / 1000;
        u.memoryByteSeconds += (n[3] * 1024) / 100;
        u.gpuSeconds += n[4] / 100;
    });
    return u;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const JOB = "mlops-delivery";

export { UsageError };

const USAGE = `Usage: npm run record-manual-delivery -- --model <m> --version <v> --started <time> [--finished <time>]
                                      [--result success|failure] [--task <study task>] [--run <id>]
                                      [--usage-log <file>] [--eval-accuracy <0-1> --dataset-version <id>]
                                      [--concurrency <n>] [--pushgateway <url>]

Records a manual delivery (docs/manual-runbook.md): pushes the per-run metrics the pipelines' report step pushes,
with mode=manual, to the Pushgateway.

Options:
  --model <m>, --version <v>   The model version delivered (as in mlops-testbed:models)
  --started <time>             When the delivery started (Unix seconds or ISO 8601)
  --finished <time>            When it ended (default: now)
  --result success|failure     How it ended (default: success)
  --task <study task>          Study task performed (default: deploy-new-version)
  --run <id>                   Run id (default: manual-<start time>)
  --usage-log <file>           The log of the runbook's commands, each run as
                               sh pipelines/lib/step_usage.sh command <file> -- <command>: pushes the
                               commands as human actions, their wall time as hands-on time, and the CPU,
                               memory and GPU time they used
  --eval-accuracy <0-1>        Held-out accuracy the runbook's evaluate step printed (with --dataset-version)
  --dataset-version <id>       Version of the training data, for the accuracy's dataset_version label
  --concurrency <n>            Deliveries started at once, this one included (default: 1)
  --pushgateway <url>          Pushgateway URL (default: the port-forward's local end)
  -h, --help                   Show this help

Exit codes: 0 recorded, 1 the Pushgateway refused or is unreachable, 2 bad arguments.`;

/** The local end of the Pushgateway's port-forward (`portForwardCommand(MONITORING_SERVICES.pushgateway)`). */
const DEFAULT_PUSHGATEWAY = `http://localhost:${MONITORING_SERVICES.pushgateway.localPort}`;

function parseTime(flag: string, text: string): number {
    const n = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Date.parse(text) / 1000;
    if (!Number.isFinite(n)) throw new UsageError(`${flag} must be Unix seconds or an ISO 8601 time, got "${text}"`);
    return n;
}

export function parseArgs(argv: readonly string[], now: number): ManualDelivery {
    const given: Record<string, string> = {};
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i];
        if (
            ![
                "--model",
                "--version",
                "--started",
                "--finished",
                "--result",
                "--task",
                "--run",
                "--pushgateway",
                "--usage-log",
                "--eval-accuracy",
                "--dataset-version",
                "--concurrency",
            ].includes(flag)
        )
            throw new UsageError(`unknown argument ${flag}`);
        const value = argv[++i];
        if (value === undefined) throw new UsageError(`${flag} needs a value`);
        given[flag] = value;
    }
    for (const required of ["--model", "--version", "--started"])
        if (!given[required]) throw new UsageError(`${required} is required`);
    for (const f of ["--model", "--version"])
        if (!DNS_LABEL.test(given[f]))
            throw new UsageError(`${f} must be a DNS label like in mlops-testbed:models, got "${given[f]}"`);
    const result = given["--result"] ?? "success";
    if (result !== "success" && result !== "failure")
        throw new UsageError(`--result must be success or failure, got "${result}"`);
    const started = parseTime("--started", given["--started"]);
    const finished = given["--finished"] ? parseTime("--finished", given["--finished"]) : now;
    if (finished < started) throw new UsageError("--finished is before --started");
    const task = given["--task"] ?? "deploy-new-version";
    if (!TASK_IDS.includes(task)) throw new UsageError(`--task must be one of ${TASK_IDS.join(", ")}, got "${task}"`);
    const run =
        given["--run"] ??
        `manual-${new Date(started * 1000)
            .toISOString()
            .replace(/[-:]|\.\d+/g, "")
            .toLowerCase()}`;
    if (!DNS_LABEL.test(run)) throw new UsageError(`--run must be a DNS label (letters, digits, -), got "${run}"`);
    const concurrency = Number(given["--concurrency"] ?? "1");
    if (!Number.isInteger(concurrency) || concurrency < 1)
        throw new UsageError(`--concurrency must be a whole number from 1, got "${given["--concurrency"]}"`);
    let usage: ManualUsage | undefined;
    if (given["--usage-log"]) {
        let text: string;
        try {
            text = fs.readFileSync(given["--usage-log"], "utf8");
        } catch (err) {
            throw new UsageError(`--usage-log ${given["--usage-log"]}: ${(err as NodeJS.ErrnoException).code}`);
        }
        usage = parseUsageLog(text, given["--usage-log"]);
    }
    let evaluation: ManualDelivery["evaluation"];
    if (given["--eval-accuracy"] !== undefined || given["--dataset-version"] !== undefined) {
        const accuracy = Number(given["--eval-accuracy"]);
        if (!(accuracy >= 0 && accuracy <= 1))
            throw new UsageError(`--eval-accuracy must be a number from 0 to 1, got "${given["--eval-accuracy"]}"`);
        if (!given["--dataset-version"]) throw new UsageError("--eval-accuracy needs --dataset-version");
        evaluation = { accuracy, datasetVersion: given["--dataset-version"] };
    }
    return {
        concurrency,
        usage,
        evaluation,
        model: given["--model"],
        version: given["--version"],
        started,
        finished,
        succeeded: result === "success",
        task,
        run,
        pushgateway: given["--pushgateway"] ?? DEFAULT_PUSHGATEWAY,
    };
}

/** URL of the run's delivery group: the same grouping the pipelines' report step uses (task, run, ...), with mode=manual. */
export function groupUrl(d: ManualDelivery): string {
    const seg = (k: string, v: string) => `/${k}/${encodeURIComponent(v)}`;
    const grouping = [
        ["task", d.task],
        ["run", d.run],
        ["model", d.model],
        ["version", d.version],
        ["mode", "manual"],
        ["part", "delivery"],
    ];
    return `${d.pushgateway.replace(/\/$/, "")}/metrics/job/${JOB}${grouping.map(([k, v]) => seg(k, v)).join("")}`;
}

/**
 * The exposition pushed, as the pipelines' report step pushes it: the result, the lead time when the delivery
 * succeeded (the time to recover instead, for a task that recovers), the rollbacks and the end time.
 */
export function exposition(d: ManualDelivery): string {
    const labels = `{namespace="${d.model}-${d.version}",concurrency="${d.concurrency}"}`;
    const recovers = STUDY_TASKS.find((t) => t.id === d.task)?.recovers ?? false;
    const samples: [string, number][] = [[METRICS.deliveryResult.name, d.succeeded ? 1 : 0]];
    // As the pipelines' report step: the lead time of every successful run, and for a recovering task its time to
    // recover too (the run ends when a good version serves again).
    if (d.succeeded) samples.push([METRICS.deployLeadTime.name, d.finished - d.started]);
    if (d.succeeded && recovers) samples.push([METRICS.recoveryTime.name, d.finished - d.started]);
    samples.push([METRICS.deliveryRollbacks.name, recovers && d.succeeded ? 1 : 0]);
    if (d.usage)
        samples.push(
            [METRICS.deliveryCpuSeconds.name, d.usage.cpuSeconds],
            [METRICS.deliveryGpuSeconds.name, d.usage.gpuSeconds],
            [METRICS.deliveryMemoryByteSeconds.name, d.usage.memoryByteSeconds],
            [METRICS.deliveryHumanActions.name, d.usage.actions],
            [METRICS.deliveryHandsOnSeconds.name, d.usage.handsOnSeconds],
        );
    samples.push([METRICS.deliveryEnd.name, d.finished]);
    return samples.flatMap(([name, value]) => [`# TYPE ${name} gauge`, `${name}${labels} ${value}`]).join("\n") + "\n";
}

/** URL and exposition of the evaluation accuracy, grouped as the pipelines' report-training step groups it. */
export function trainingPush(d: ManualDelivery): { url: string; body: string } | undefined {
    if (!d.evaluation) return undefined;
    const labels = `{namespace="${d.model}-${d.version}",dataset_version="${d.evaluation.datasetVersion.replace(/["\\\n]/g, "_")}"}`;
    const body = [
        [METRICS.evaluationAccuracy.name, d.evaluation.accuracy],
        [METRICS.datasetInfo.name, 1],
    ]
        .flatMap(([name, value]) => [`# TYPE ${name} gauge`, `${name}${labels} ${value}`])
        .join("\n");
    const seg = (k: string, v: string) => `/${k}/${encodeURIComponent(v)}`;
    const url =
        `${d.pushgateway.replace(/\/$/, "")}/metrics/job/${JOB}` +
        seg("model", d.model) +
        seg("version", d.version) +
        seg("mode", "manual") +
        seg("part", "training");
    return { url, body: body + "\n" };
}

export async function push(d: ManualDelivery): Promise<void> {
    const training = trainingPush(d);
    for (const { url, body } of [{ url: groupUrl(d), body: exposition(d) }, ...(training ? [training] : [])]) {
        const res = await fetch(url, { method: "PUT", body, headers: { "Content-Type": "text/plain; version=0.0.4" } });
        if (res.status !== 200 && res.status !== 202)
            throw new Error(`the Pushgateway answered ${res.status}: ${await res.text()}`);
    }
}

async function main(argv: readonly string[]): Promise<number> {
    const d = parseArgs(argv, Date.now() / 1000);
    try {
        await push(d);
    } catch (err) {
        process.stderr.write(`${(err as Error).message}\n`);
        return 1;
    }
    process.stdout.write(
        `recorded manual delivery of ${d.model} ${d.version}: ${d.succeeded ? `lead time ${d.finished - d.started} s` : "failed"}\n`,
    );
    return 0;
}

runAsScript(module, USAGE, main);
