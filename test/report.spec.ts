import * as assert from "node:assert/strict";
import { STUDY_TASKS } from "../contract/study-tasks";
import { DELIVERY_MODES } from "../contract/metric-contract";
import { DEFAULT_PROMETHEUS, UsageError, main, parseArgs, parseWindow, resolvePrometheus } from "../tools/report";
import { formatAmount, formatDuration, renderCsv, renderJson, renderMarkdown } from "../tools/report/format";
import {
    COMPARISON_COLUMNS,
    comparisonQueries,
    comparisonTable,
    qualityTable,
    scalabilityQueries,
    scalabilityTable,
    type VectorSample,
} from "../tools/report/queries";
import { checkExpression, metricCatalog } from "./promql";

const sample = (metric: Record<string, string>, value: string): VectorSample => ({ metric, value: [0, value] });
const W = { since: 1_000_000, until: 1_086_400 };

describe("npm run report: arguments and pure query logic", () => {
    it("parses the options and refuses bad ones with a usage error", () => {
        assert.deepEqual(parseArgs(["--prometheus", "http://p:9090", "--since=7d", "--format", "csv"]), {
            prometheus: "http://p:9090",
            since: "7d",
            format: "csv",
        });
        assert.throws(
            () => parseArgs(["--format", "pdf"]),
            (e: Error) => e instanceof UsageError && /markdown, csv, json, html/.test(e.message),
        );
        assert.throws(() => parseArgs(["--prometheus", "localhost:9090"]), UsageError);
        assert.throws(() => parseArgs(["--since"]), UsageError);
        assert.throws(() => parseArgs(["--bogus"]), /unknown argument --bogus/);
        assert.deepEqual(parseArgs(["--scalability-levels", "1,2, 4"]).scalabilityLevels, [1, 2, 4]);
        for (const bad of ["0", "2,x", "1.5", ""])
            assert.throws(
                () => parseArgs([`--scalability-levels=${bad}`]),
                (e: Error) => e instanceof UsageError && /--scalability-levels/.test(e.message),
                bad,
            );
    });

    it("compares scalability over the runs of deliver-several-models only", () => {
        const catalog = metricCatalog();
        for (const [k, q] of Object.entries(scalabilityQueries(W))) {
            assert.deepEqual(checkExpression(q, catalog), [], k);
            assert.match(q, /\{task="deliver-several-models"\}/, k);
            assert.doesNotMatch(q, /\{task=(?!"deliver-several-models")/, k);
        }
    });

    it("says which scalability levels the study did not run, and no data for the others without runs", () => {
        const results = {
            runs: [sample({ mode: "automated", concurrency: "2" }, "2")],
            leadTimeP50: [sample({ mode: "automated", concurrency: "2" }, "90")],
            leadTimeP95: [sample({ mode: "automated", concurrency: "2" }, "99")],
            failureRate: [sample({ mode: "automated", concurrency: "2" }, "0")],
        };
        const cell = (rows: ReturnType<typeof scalabilityTable>, mode: string, level: string) =>
            rows.find((r) => r.mode === mode && r.concurrency === level)!.cells;
        const short = scalabilityTable(results, [2]);
        assert.equal(short.length, DELIVERY_MODES.length * 3);
        assert.deepEqual(cell(short, "automated", "2"), { runs: 2, leadTimeP50: 90, leadTimeP95: 99, failureRate: 0 });
        assert.deepEqual(cell(short, "automated", "4"), {
            runs: 0,
            leadTimeP50: "not run",
            leadTimeP95: "not run",
            failureRate: "not run",
        });
        // A level the study ran without any run reaching the report is missing data, not a level left out.
        assert.equal(cell(short, "manual", "2").leadTimeP50, "no data");
        assert.equal(cell(scalabilityTable(results), "automated", "4").leadTimeP50, "no data");
        const report = { window: W, comparison: [], scalability: short, quality: [] };
        assert.match(renderMarkdown(report), /\n\| automated \| 1 \| 0 \| not run \| not run \| not run \|\n/);
        assert.match(renderMarkdown(report), /\nNot run: 1, 4 at once: the study behind these data did not deliver/);
        assert.doesNotMatch(renderMarkdown({ ...report, scalability: scalabilityTable(results) }), /Not run:/);
        const json = JSON.parse(renderJson(report)) as { scalability: { concurrency: number; leadTimeP50: unknown }[] };
        assert.equal(json.scalability.find((r) => r.concurrency === 4)!.leadTimeP50, "not run");
    });

    it("--help prints the usage and exits 0 without querying", async () => {
        const r = await main(["--since", "7d", "--help"]);
        assert.equal(r.code, 0);
        assert.match(r.stdout, /^Usage: npm run report -- \[--prometheus <url>\]/);
        assert.equal(r.stderr, "");
    });

    it("reads the window as a duration back from --until, or as dates", () => {
        assert.deepEqual(parseWindow("2h", "1970-01-02T00:00:00Z", 0), { since: 86400 - 7200, until: 86400 });
        assert.deepEqual(parseWindow("30d", undefined, 100 * 86400), { since: 70 * 86400, until: 100 * 86400 });
        assert.deepEqual(parseWindow("1970-01-01T00:00:10Z", "20", 0), { since: 10, until: 20 });
        assert.throws(() => parseWindow("yesterday", undefined, 1000), UsageError);
        assert.throws(() => parseWindow("20", "10", 0), /must be before/);
    });

    it("finds Prometheus from the flag, the stack's port-forward output, or the default", () => {
        const never = () => assert.fail("stack outputs are not read");
        assert.equal(
            resolvePrometheus({ prometheus: "http://p:9090/", since: "1d", format: "json" }, never).url,
            "http://p:9090",
        );
        const fromStack = resolvePrometheus(
            { stack: "dev", since: "1d", format: "json" },
            () => "kubectl --namespace monitoring port-forward svc/kps-prometheus 19090:9090",
        );
        assert.deepEqual(fromStack, {
            url: "http://localhost:19090",
            hint: "start the port-forward first: kubectl --namespace monitoring port-forward svc/kps-prometheus 19090:9090",
        });
        assert.throws(
            () => resolvePrometheus({ stack: "dev", since: "1d", format: "json" }, () => null),
            /no prometheusUrl output/,
        );
        const dflt = resolvePrometheus({ since: "1d", format: "json" }, never);
        assert.equal(dflt.url, DEFAULT_PROMETHEUS);
        assert.match(dflt.hint, /port-forward svc\/kps-prometheus 9090:9090/);
    });

    it("exits 2 with the problem in one line, then the usage, for bad arguments", async () => {
        const r = await main(["--since", "soon"]);
        assert.equal(r.code, 2);
        assert.equal(r.stdout, "");
        const [problem, blank, usage] = r.stderr.split("\n");
        assert.match(problem, /--since/);
        assert.equal(blank, "");
        assert.match(usage, /^Usage: npm run report/);
    });

    it("every query parses, type-checks and names only contract metrics", () => {
        const catalog = metricCatalog();
        const problems = Object.entries(comparisonQueries(W)).flatMap(([k, q]) =>
            checkExpression(q, catalog).map((p) => `${k}: ${p}`),
        );
        assert.deepEqual(problems, []);
        assert.match(comparisonQueries(W).runs, /\[86400s\]/);
        assert.match(comparisonQueries(W).runs, />= 1000000\)/, "runs are selected by their end time");
    });

    it("lists every task and mode, marks missing cells, and n/a where a task does not recover", () => {
        const empty = Object.fromEntries(COMPARISON_COLUMNS.map((c) => [c, [] as VectorSample[]])) as Record<
            (typeof COMPARISON_COLUMNS)[number],
            VectorSample[]
        >;
        const rows = comparisonTable({
            ...empty,
            runs: [
                sample({ task: "deploy-new-version", mode: "manual" }, "2"),
                sample({ task: "custom", mode: "manual" }, "1"),
            ],
            leadTimeP50: [
                sample({ task: "deploy-new-version", mode: "manual" }, "120"),
                sample({ task: "custom", mode: "manual" }, "NaN"),
            ],
        });
        assert.equal(rows.length, STUDY_TASKS.length * DELIVERY_MODES.length + 1);
        const manual = rows.find((r) => r.task === "deploy-new-version" && r.mode === "manual")!;
        assert.equal(manual.cells.runs, 2);
        assert.equal(manual.cells.leadTimeP50, 120);
        assert.equal(manual.cells.failureRate, "no data");
        assert.equal(manual.cells.timeToRecoverP50, "n/a");
        const custom = rows.at(-1)!;
        assert.deepEqual(
            [custom.task, custom.cells.leadTimeP50, custom.cells.timeToRecoverP50],
            ["custom", "no data", "no data"],
        );
        assert.equal(rows.find((r) => r.task === "rollback-bad-version")!.cells.timeToRecoverP50, "no data");
    });

    it("quality rows name the modes that delivered a version", () => {
        const rows = qualityTable({
            accuracy: [sample({ model: "m", version: "v10" }, "0.9"), sample({ model: "m", version: "v9" }, "0.8")],
            latencyP95: [],
            errorRate: [],
            drift: [],
            deliveredBy: [
                sample({ model: "m", version: "v9", mode: "manual" }, "1"),
                sample({ model: "m", version: "v9", mode: "automated" }, "1"),
            ],
        });
        assert.deepEqual(
            rows.map((r) => [r.version, r.mode, r.cells.accuracy, r.cells.drift]),
            [
                ["v9", "automated+manual", 0.8, "no data"],
                ["v10", "", 0.9, "no data"],
            ],
        );
        assert.match(
            renderCsv({ window: W, comparison: [], scalability: [], quality: rows }),
            /^model,version,mode,accuracy_ratio,latencyP95_seconds,errorRate_ratio,drift_score\nm,v9,automated\+manual,0\.8,no data,no data,no data$/m,
        );
    });

    it("shows small resource use with two significant digits, and no use as 0.00", () => {
        assert.deepEqual([0, 0.0031, 0.000456, 0.01, 0.125, 2].map(formatAmount), [
            "0.00",
            "0.0031",
            "0.00046",
            "0.01",
            "0.13",
            "2.00",
        ]);
    });

    it("formats durations", () => {
        assert.deepEqual(
            [formatDuration(0.25), formatDuration(45), formatDuration(573), formatDuration(7020), formatDuration(9000)],
            ["0.3 s", "45 s", "9 min 33 s", "1 h 57 min", "2 h 30 min"],
        );
    });
});
