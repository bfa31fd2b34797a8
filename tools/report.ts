/**
 * The study report: `npm run report [-- --prometheus <url>] [--stack <name>] [--since 30d|<date>] [--until <date>]
 * [--format markdown|csv|json|html] [--scalability-levels <n,...>]`.
 *
 * Queries Prometheus over its HTTP API for the runs of the standardized tasks (contract/study-tasks.ts) and prints
 * the comparison per task and delivery mode, then the per-version quality table. Query logic: tools/report/.
 * Exit codes: 0 report printed (cells without data say "no data"), 2 bad arguments or stack outputs unreadable,
 * 3 Prometheus unreachable or refused a query, 1 anything else. Errors are one line on stderr.
 */
import { UsageError, wantsHelp } from "./cli";
import { spawnSync } from "node:child_process";
import { MONITORING_SERVICES, portForwardCommand } from "../contract/names";
import { FORMATS, render, type Format, type Report } from "./report/format";
import { renderHtml } from "./report/html";
import {
    COMPARISON_COLUMNS,
    QUALITY_COLUMNS,
    comparisonQueries,
    comparisonTable,
    qualityQueries,
    qualityTable,
    scalabilityQueries,
    scalabilityTable,
    type VectorSample,
    type Window,
} from "./report/queries";

export { UsageError };
export class PrometheusError extends Error {}

export interface ReportArgs {
    /** Prometheus base URL; undefined: from --stack, else http://localhost:9090. */
    prometheus?: string;
    stack?: string;
    since: string;
    until?: string;
    format: Format;
    /** The concurrency levels the study behind the data ran; undefined: not said (empty levels say "no data"). */
    scalabilityLevels?: number[];
}

const USAGE = `Usage: npm run report -- [--prometheus <url>] [--stack <name>] [--since <duration|date>] [--until <date>]
                      [--format markdown|csv|json|html] [--scalability-levels <n,...>]

Prints the study's comparison of delivery modes per standardized task, and the quality of the model versions
serving in the window, from Prometheus.

Options:
  --prometheus <url>       Prometheus base URL (default: http://localhost:9090, the port-forward's local end)
  --stack <name>           Read the stack output prometheusUrl through the Pulumi CLI instead
  --since <duration|date>  Start of the window: a duration back from --until, or a date (default: 30d)
  --until <date>           End of the window (default: now)
  --format <format>        markdown, csv, json or html: one self-contained page with charts (default: markdown)
  --scalability-levels <n,...>
                           The concurrency levels the study ran (e.g. 2 for the short study): the scalability
                           rows of other levels say "not run" instead of "no data"
  -h, --help               Show this help

Exit codes: 0 report printed, 2 bad arguments or unreadable stack outputs, 3 Prometheus unreachable or refusing a
query, 1 anything else.`;

/** Where Prometheus is when nothing says otherwise: the local end of the stack output prometheusUrl's port-forward. */
export const DEFAULT_PROMETHEUS = `http://localhost:${MONITORING_SERVICES.prometheus.localPort}`;
const PORT_FORWARD_HINT = portForwardCommand(MONITORING_SERVICES.prometheus);

export function parseArgs(argv: string[]): ReportArgs {
    const args: ReportArgs = { since: "30d", format: "markdown" };
    for (let i = 0; i < argv.length; i++) {
        let a = argv[i];
        let inline: string | undefined;
        const eq = a.indexOf("=");
        if (a.startsWith("--") && eq > 0) [a, inline] = [a.slice(0, eq), a.slice(eq + 1)];
        const value = () => {
            const v = inline ?? argv[++i];
            if (v === undefined || v === "" || (inline === undefined && v.startsWith("--")))
                throw new UsageError(`${a} needs a value; ${USAGE}`);
            return v;
        };
        if (a === "--prometheus") args.prometheus = value();
        else if (a === "--stack" || a === "-s") args.stack = value();
        else if (a === "--since") args.since = value();
        else if (a === "--until") args.until = value();
        else if (a === "--format") {
            const f = value();
            if (!(FORMATS as readonly string[]).includes(f))
                throw new UsageError(`--format must be one of ${FORMATS.join(", ")}, not "${f}"`);
            args.format = f as Format;
        } else if (a === "--scalability-levels") {
            const v = value();
            const levels = v.split(",").map((x) => Number(x.trim()));
            if (levels.some((n) => !Number.isInteger(n) || n < 1))
                throw new UsageError(`--scalability-levels must be positive integers separated by commas, not "${v}"`);
            args.scalabilityLevels = levels;
        } else throw new UsageError(`unknown argument ${a}; ${USAGE}`);
    }
    if (args.prometheus !== undefined && !/^https?:\/\/[^/]/.test(args.prometheus))
        throw new UsageError(`--prometheus must be an http(s) URL, not "${args.prometheus}"`);
    return args;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };

/** A point in time (Unix seconds) from an ISO date/time or Unix seconds. */
export function parseTime(text: string, what: string): number {
    if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
    const t = Date.parse(text);
    if (Number.isNaN(t))
        throw new UsageError(
            `${what} "${text}" is neither a date (2025-01-31, 2025-01-31T12:00:00Z), Unix seconds nor (for --since) a duration like 7d`,
        );
    return t / 1000;
}

/** The window: --until (default now) and --since, a duration back from --until (30d, 12h, 1w) or a date. */
export function parseWindow(since: string, until: string | undefined, now: number): Window {
    const end = until === undefined ? now : parseTime(until, "--until");
    const d = /^(\d+)([smhdwy])$/.exec(since);
    const start = d ? end - Number(d[1]) * UNIT_SECONDS[d[2]] : parseTime(since, "--since");
    if (!(start < end))
        throw new UsageError(
            `--since (${new Date(start * 1000).toISOString()}) must be before --until (${new Date(end * 1000).toISOString()})`,
        );
    return { since: start, until: end };
}

/** The Prometheus URL to query and the hint to print when it is unreachable. */
export function resolvePrometheus(
    args: ReportArgs,
    stackOutput: (stack: string) => string | null,
): { url: string; hint: string } {
    if (args.prometheus) return { url: args.prometheus.replace(/\/+$/, ""), hint: "check the URL" };
    if (args.stack) {
        const value = stackOutput(args.stack);
        if (!value)
            throw new UsageError(
                `stack ${args.stack} has no prometheusUrl output (monitoring not deployed?); pass --prometheus <url>`,
            );
        if (/^https?:\/\//.test(value))
            return { url: value.replace(/\/+$/, ""), hint: "check the stack's prometheusUrl" };
        const port = / (\d+):\d+\s*$/.exec(value)?.[1];
        if (!port)
            throw new UsageError(
                `cannot read a URL or a port-forward from prometheusUrl "${value}"; pass --prometheus <url>`,
            );
        return { url: `http://localhost:${port}`, hint: `start the port-forward first: ${value}` };
    }
    return {
        url: DEFAULT_PROMETHEUS,
        hint: `start the port-forward first (${PORT_FORWARD_HINT}, the stack output prometheusUrl) or pass --prometheus <url>`,
    };
}

/** The stack output prometheusUrl, read with the Pulumi CLI. */
function pulumiStackOutput(stack: string): string | null {
    const r = spawnSync("pulumi", ["stack", "output", "prometheusUrl", "--json", "--stack", stack], {
        encoding: "utf8",
    });
    if (r.error)
        throw new UsageError(
            `cannot read the outputs of stack ${stack}: the pulumi CLI is not available (${(r.error as NodeJS.ErrnoException).code}); pass --prometheus <url>`,
        );
    if (r.status !== 0)
        throw new UsageError(
            `cannot read the outputs of stack ${stack}: ${(r.stderr || r.stdout).trim().split("\n")[0]}`,
        );
    return JSON.parse(r.stdout) as string | null;
}

/** Runs one instant query; failures become a one-line PrometheusError. */
export async function instantQuery(
    url: string,
    expr: string,
    time: number,
    hint: string,
    timeoutMs = 30_000,
): Promise<VectorSample[]> {
    let res: Response;
    try {
        res = await fetch(`${url}/api/v1/query`, {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams({ query: expr, time: String(time) }),
            signal: AbortSignal.timeout(timeoutMs),
        });
    } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        const why =
            (err as Error).name === "TimeoutError"
                ? `no answer within ${timeoutMs / 1000} s`
                : (cause?.code ?? cause?.message ?? (err as Error).message);
        throw new PrometheusError(`cannot reach Prometheus at ${url} (${why}); ${hint}`);
    }
    const text = await res.text();
    let body: {
        status?: string;
        error?: string;
        errorType?: string;
        data?: { resultType?: string; result?: VectorSample[] };
    };
    try {
        body = JSON.parse(text);
    } catch {
        throw new PrometheusError(
            `${url} did not answer like Prometheus (HTTP ${res.status}, not JSON): is it the Prometheus server?`,
        );
    }
    if (body.status !== "success")
        throw new PrometheusError(
            `Prometheus at ${url} refused a query (${body.errorType ?? `HTTP ${res.status}`}: ${body.error ?? "no message"}): ${expr}`,
        );
    if (body.data?.resultType !== "vector")
        throw new PrometheusError(
            `Prometheus at ${url} answered a ${body.data?.resultType} where a vector was expected: ${expr}`,
        );
    return body.data.result ?? [];
}

async function runAll<K extends string>(
    queries: Record<K, string>,
    run: (expr: string) => Promise<VectorSample[]>,
): Promise<Record<K, VectorSample[]>> {
    const entries = Object.entries(queries) as [K, string][];
    const out = {} as Record<K, VectorSample[]>;
    for (const [k, expr] of entries) out[k] = await run(expr);
    return out;
}

/** Queries Prometheus and builds the tables; `levelsRun`: the concurrency levels the study ran, when known. */
export async function buildReport(
    url: string,
    window: Window,
    hint: string,
    levelsRun?: readonly number[],
): Promise<Report> {
    const run = (expr: string) => instantQuery(url, expr, window.until, hint);
    const comparison = comparisonTable(await runAll(comparisonQueries(window), run));
    const scalability = scalabilityTable(await runAll(scalabilityQueries(window), run), levelsRun);
    const quality = qualityTable(await runAll(qualityQueries(window), run));
    return { window, comparison, scalability, quality };
}

export async function main(
    argv: string[],
    now = Date.now() / 1000,
): Promise<{ code: number; stdout: string; stderr: string }> {
    if (wantsHelp(argv)) return { code: 0, stdout: `${USAGE}\n`, stderr: "" };
    try {
        const args = parseArgs(argv);
        const window = parseWindow(args.since, args.until, now);
        const { url, hint } = resolvePrometheus(args, pulumiStackOutput);
        const report = await buildReport(url, window, hint, args.scalabilityLevels);
        const empty = report.comparison.every((r) => r.cells.runs === 0) && report.quality.length === 0;
        const note = empty
            ? `Prometheus at ${url} has no task runs and no model-server metrics in this window: every cell is "no data".\n`
            : "";
        const text = args.format === "html" ? await renderHtml(report) : render(report, args.format);
        return { code: 0, stdout: text, stderr: note };
    } catch (err) {
        if (err instanceof UsageError) return { code: 2, stdout: "", stderr: `${err.message}\n\n${USAGE}\n` };
        if (err instanceof PrometheusError) return { code: 3, stdout: "", stderr: `${err.message}\n` };
        return { code: 1, stdout: "", stderr: `report failed: ${err instanceof Error ? err.message : String(err)}\n` };
    }
}

export { COMPARISON_COLUMNS, QUALITY_COLUMNS };

if (require.main === module) {
    main(process.argv.slice(2)).then(({ code, stdout, stderr }) => {
        process.stdout.write(stdout);
        process.stderr.write(stderr);
        process.exitCode = code;
    });
}
