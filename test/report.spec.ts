import * as assert from "node:assert/strict";
import { STUDY_TASKS } from "../contract/study-tasks";
import { DELIVERY_MODES } from "../contract/metric-contract";
import { DEFAULT_PROMETHEUS, UsageError, main, parseArgs, parseWindow, resolvePrometheus } from "../tools/report";
import {
    EASE_OF_DEPLOYMENT,
    formatAmount,
    formatDuration,
    render,
    renderCsv,
    renderJson,
    renderMarkdown,
    type Report,
} from "../tools/report/format";
import {
    COMPARISON_COLUMNS,
    comparisonQueries,
    comparisonTable,
    QUALITY_COLUMNS,
    qualityQueries,
    qualityTable,
    SCALABILITY_COLUMNS,
    scalabilityQueries,
    scalabilityTable,
    type ComparisonRow,
    type VectorSample,
} from "../tools/report/queries";
import { chartSpecs, renderHtml } from "../tools/report/html";
import { checkExpression, metricCatalog } from "./promql";

const sample = (metric: Record<string, string>, value: string): VectorSample => ({ metric, value: [0, value] });
const W = { since: 1_000_000, until: 1_086_400 };
/** Query results without a sample, per column: a case sets the columns it needs. */
const noComparisonResults = Object.fromEntries(COMPARISON_COLUMNS.map((c) => [c, [] as VectorSample[]])) as Record<
    (typeof COMPARISON_COLUMNS)[number],
    VectorSample[]
>;
const noQualityResults = Object.fromEntries(
    [...QUALITY_COLUMNS, "deliveredBy"].map((c) => [c, [] as VectorSample[]]),
) as Record<(typeof QUALITY_COLUMNS)[number] | "deliveredBy", VectorSample[]>;

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

    it("has a query per column of each table; each parses, type-checks and names only contract metrics", () => {
        const catalog = metricCatalog();
        assert.match(comparisonQueries(W).runs, /\[86400s\]/);
        assert.match(comparisonQueries(W).runs, />= 1000000\)/, "runs are selected by their end time");
        // One query per column of each table, and every one a valid expression over the contract's metrics.
        const columns = {
            comparison: [comparisonQueries(W), COMPARISON_COLUMNS],
            scalability: [scalabilityQueries(W), SCALABILITY_COLUMNS],
            quality: [qualityQueries(W), [...QUALITY_COLUMNS, "deliveredBy"]],
        } as const;
        for (const [table, [queries, expected]] of Object.entries(columns)) {
            assert.deepEqual(Object.keys(queries), expected, table);
            for (const [k, q] of Object.entries(queries))
                assert.deepEqual(checkExpression(q, catalog), [], `${table}.${k}`);
        }
    });

    it("lists every task and mode, marks missing cells, and n/a where a task does not recover", () => {
        const rows = comparisonTable({
            ...noComparisonResults,
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
            ...noQualityResults,
            accuracy: [sample({ model: "m", version: "v10" }, "0.9"), sample({ model: "m", version: "v9" }, "0.8")],
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

    it("formats durations, in the larger unit from the value that rounds to it", () => {
        assert.deepEqual(
            [formatDuration(0.25), formatDuration(45), formatDuration(573), formatDuration(7020), formatDuration(9000)],
            ["0.3 s", "45 s", "9 min 33 s", "1 h 57 min", "2 h 30 min"],
        );
        assert.deepEqual(
            [0, 0.04, 12.5, 59.9, 59.94, 59.96, 60, 61.5, 3599.4, 3599.6, 3600, 7170].map(formatDuration),
            [
                "0 s",
                "0 s",
                "12.5 s",
                "59.9 s",
                "59.9 s",
                "1 min 00 s",
                "1 min 00 s",
                "1 min 02 s",
                "59 min 59 s",
                "1 h 00 min",
                "1 h 00 min",
                "2 h 00 min",
            ],
        );
    });

    it("refuses a window that rounds to no second", () => {
        for (const queries of [comparisonQueries, scalabilityQueries])
            assert.throws(
                () => queries({ since: 100, until: 100.4 }),
                /^Error: empty window: since 100 is not before until 100.4$/,
            );
        assert.match(comparisonQueries({ since: 100, until: 100.6 }).runs, /\[1s\]/);
    });

    it("keys rows by the labels a sample has, and leaves out samples without a number", () => {
        const rows = comparisonTable({
            ...noComparisonResults,
            runs: [
                sample({ task: "zeta", mode: "manual" }, "1"),
                sample({ task: "alpha", mode: "manual" }, "2"),
                sample({ mode: "automated" }, "1"),
            ],
            // Prometheus answers NaN where a quantile has no observations: no row comes from that alone.
            leadTimeP50: [sample({ task: "only-nan", mode: "manual" }, "NaN")],
        });
        assert.deepEqual(
            rows.slice(STUDY_TASKS.length * DELIVERY_MODES.length).map((r) => [r.task, r.mode, r.cells.runs]),
            [
                ["", "automated", 1],
                ["alpha", "manual", 2],
                ["zeta", "manual", 1],
            ],
        );
        const quality = qualityTable({
            ...noQualityResults,
            accuracy: [sample({ model: "m" }, "0.9")],
            deliveredBy: [sample({ model: "m", mode: "manual" }, "1")],
        });
        assert.deepEqual(
            quality.map((r) => [r.model, r.version, r.mode, r.cells.accuracy]),
            [["m", "", "manual", 0.9]],
        );
        const unlabelled = qualityTable({
            ...noQualityResults,
            accuracy: [sample({ version: "v1" }, "0.9")],
            deliveredBy: [sample({ version: "v1" }, "1")],
        });
        assert.deepEqual(
            unlabelled.map((r) => [r.model, r.version, r.mode]),
            [["", "v1", ""]],
        );
        const noModel = qualityTable({
            ...noQualityResults,
            accuracy: [sample({ version: "v1" }, "0.9")],
            deliveredBy: [sample({ version: "v1", mode: "manual" }, "1")],
        });
        assert.deepEqual(
            noModel.map((r) => [r.model, r.version, r.mode]),
            [["", "v1", "manual"]],
        );
    });

    it("adds the levels and modes found in the data to the scalability table, levels in numeric order", () => {
        const rows = scalabilityTable({
            runs: [
                sample({ mode: "automated", concurrency: "16" }, "1"),
                sample({ mode: "gitops", concurrency: "3" }, "2"),
            ],
            leadTimeP50: [sample({ mode: "automated", concurrency: "16" }, "300")],
            leadTimeP95: [],
            failureRate: [],
        });
        const levels = ["1", "2", "3", "4", "16"];
        assert.deepEqual(
            rows.map((r) => `${r.mode}@${r.concurrency}`),
            [...DELIVERY_MODES, "gitops"].flatMap((m) => levels.map((l) => `${m}@${l}`)),
        );
        const at = (mode: string, level: string) => rows.find((r) => r.mode === mode && r.concurrency === level)!;
        assert.deepEqual(at("automated", "16").cells, {
            runs: 1,
            leadTimeP50: 300,
            leadTimeP95: "no data",
            failureRate: "no data",
        });
        assert.equal(at("gitops", "3").cells.runs, 2);
        assert.equal(at("gitops", "1").cells.leadTimeP50, "no data");
    });
});

/** A report written out by hand (not built by the table functions), to read each format's text against. */
const HAND_REPORT: Report = {
    window: { since: Date.UTC(2026, 11, 1, 8, 30, 45) / 1000, until: Date.UTC(2026, 11, 2, 8, 30, 45) / 1000 },
    comparison: [
        {
            task: "deploy-new-version",
            mode: "manual",
            cells: {
                runs: 3,
                leadTimeP50: 59.96,
                leadTimeP95: 3600,
                failureRate: 0.125,
                rollbacks: 1,
                timeToRecoverP50: "n/a",
                accuracyReached: 0.9134,
                humanActionsPerRun: 7,
                handsOnMinutesPerRun: 2.5,
                cpuHoursPerRun: 0.0031,
                gpuHoursPerRun: 0,
                memoryGibHoursPerRun: "no data",
            },
        },
        {
            task: 'custom, "quoted"',
            mode: "automated",
            cells: {
                ...(Object.fromEntries(COMPARISON_COLUMNS.map((c) => [c, "no data"])) as ComparisonRow["cells"]),
                runs: 1,
                timeToRecoverP50: 75,
            },
        },
    ],
    scalability: [
        {
            mode: "automated",
            concurrency: "1",
            cells: { runs: 2, leadTimeP50: 45, leadTimeP95: 61.5, failureRate: 0.5 },
        },
        {
            mode: "automated",
            concurrency: "2",
            cells: { runs: 0, leadTimeP50: "not run", leadTimeP95: "not run", failureRate: "not run" },
        },
        {
            mode: "automated",
            concurrency: "4",
            cells: { runs: 0, leadTimeP50: "not run", leadTimeP95: "not run", failureRate: "not run" },
        },
    ],
    quality: [
        {
            model: "m",
            version: "v1",
            mode: "automated+manual",
            cells: { accuracy: 0.95, latencyP95: 1, errorRate: 0.0123, drift: "no data" },
        },
        {
            model: "m",
            version: "v2",
            mode: "",
            cells: { accuracy: "no data", latencyP95: 2.5, errorRate: 0, drift: 0.25 },
        },
        {
            model: "m",
            version: "v3",
            mode: "manual",
            cells: { accuracy: 0.5, latencyP95: 0.0456, errorRate: 1, drift: 2 },
        },
    ],
};

describe("npm run report: the text of each format", () => {
    it("Markdown: the window to the minute, every table, the ease notes and the levels not run", () => {
        const comparisonHeader =
            "| task | mode | runs | lead time p50 | lead time p95 | failure rate | rollbacks | time to recover p50 | " +
            "accuracy reached | human actions/run | hands-on min/run | CPU-hours/run | GPU-hours/run | memory GiB-hours/run |";
        const expected = [
            "Task runs that ended between 2026-12-01T08:30Z and 2026-12-02T08:30Z, per task and delivery mode:",
            "",
            comparisonHeader,
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            "| deploy-new-version | manual | 3 | 1 min 00 s | 1 h 00 min | 12.5% | 1 | n/a | 0.913 | 7 | 2.5 | 0.0031 | 0.00 | no data |",
            '| custom, "quoted" | automated | 1 | no data | no data | no data | no data | 1 min 15 s | no data | no data | no data | no data | no data | no data |',
            "",
            "Ease of deployment (human actions, hands-on minutes) counts, per run:",
            `- automated: ${EASE_OF_DEPLOYMENT.automated}.`,
            `- simplified: ${EASE_OF_DEPLOYMENT.simplified}.`,
            `- manual: ${EASE_OF_DEPLOYMENT.manual}.`,
            "",
            "Scalability: the runs of deliver-several-models (the same delivery per mode at each level) by how many were started at once:",
            "",
            "| mode | at once | runs | lead time p50 | lead time p95 | failure rate |",
            "| --- | --- | ---: | ---: | ---: | ---: |",
            "| automated | 1 | 2 | 45 s | 1 min 02 s | 50.0% |",
            "| automated | 2 | 0 | not run | not run | not run |",
            "| automated | 4 | 0 | not run | not run | not run |",
            "",
            "Not run: 2, 4 at once: the study behind these data did not deliver at those levels.",
            "",
            "Model versions serving in that window:",
            "",
            "| model | version | mode | accuracy | p95 latency | error rate | drift |",
            "| --- | --- | --- | ---: | ---: | ---: | ---: |",
            "| m | v1 | automated+manual | 0.950 | 1 s | 1.23% | no data |",
            "| m | v2 | no data | no data | 2.5 s | 0.00% | 0.250 |",
            "| m | v3 | manual | 0.500 | 45.6 ms | 100.00% | 2.000 |",
            "",
        ].join("\n");
        assert.equal(renderMarkdown(HAND_REPORT), expected);
        assert.equal(render(HAND_REPORT, "markdown"), expected);
    });

    it("Markdown: a pipe or a line break in a label stays inside its cell", () => {
        const text = renderMarkdown({
            ...HAND_REPORT,
            comparison: [{ ...HAND_REPORT.comparison[0], task: "a|b\r\nc\nd" }],
            quality: [{ ...HAND_REPORT.quality[0], version: "v|1" }],
        });
        assert.match(text, /\n\| a\\\|b c d \| manual \| 3 \| 1 min 00 s \|/);
        assert.match(text, /\n\| m \| v\\\|1 \| automated\+manual \| 0\.950 \|/);
    });

    it("Markdown: one level not run, and no quality table without model servers", () => {
        const text = renderMarkdown({ ...HAND_REPORT, scalability: HAND_REPORT.scalability.slice(0, 2), quality: [] });
        assert.match(text, /\n\nNot run: 2 at once: the study behind these data did not deliver at that level\.\n\n/);
        assert.ok(
            text.endsWith(
                "\nModel versions serving in that window:\n\n(no data: no model server exported metrics in the window)\n",
            ),
            text,
        );
    });

    it("CSV: plain numbers, units in the headers, quoted text, three tables", () => {
        const expected = [
            "task,mode,runs,leadTimeP50_seconds,leadTimeP95_seconds,failureRate_ratio,rollbacks,timeToRecoverP50_seconds," +
                "accuracyReached_ratio,humanActionsPerRun,handsOnMinutesPerRun_minutes,cpuHoursPerRun_hours,gpuHoursPerRun_hours," +
                "memoryGibHoursPerRun_GiB_hours",
            "deploy-new-version,manual,3,59.96,3600,0.125,1,n/a,0.9134,7,2.5,0.0031,0,no data",
            '"custom, ""quoted""",automated,1,no data,no data,no data,no data,75,no data,no data,no data,no data,no data,no data',
            "",
            "mode,concurrency,runs,leadTimeP50_seconds,leadTimeP95_seconds,failureRate_ratio",
            "automated,1,2,45,61.5,0.5",
            "automated,2,0,not run,not run,not run",
            "automated,4,0,not run,not run,not run",
            "",
            "model,version,mode,accuracy_ratio,latencyP95_seconds,errorRate_ratio,drift_score",
            "m,v1,automated+manual,0.95,1,0.0123,no data",
            "m,v2,,no data,2.5,0,0.25",
            "m,v3,manual,0.5,0.0456,1,2",
            "",
        ].join("\n");
        assert.equal(renderCsv(HAND_REPORT), expected);
        assert.equal(render(HAND_REPORT, "csv"), expected);
        const newline = renderCsv({ ...HAND_REPORT, comparison: [{ ...HAND_REPORT.comparison[0], task: "a\nb" }] });
        assert.ok(newline.includes('\n"a\nb",manual,3,59.96,'), newline);
    });

    it("JSON: the window in full, numbers in the units listed, null for no data", () => {
        const text = renderJson(HAND_REPORT);
        assert.equal(render(HAND_REPORT, "json"), text);
        assert.ok(text.endsWith("}\n") && !text.endsWith("}\n\n"), "one final newline");
        const doc = JSON.parse(text) as Record<string, unknown>;
        assert.equal(doc.since, "2026-12-01T08:30:45.000Z");
        assert.equal(doc.until, "2026-12-02T08:30:45.000Z");
        assert.deepEqual(doc.scalability, [
            { mode: "automated", concurrency: 1, runs: 2, leadTimeP50: 45, leadTimeP95: 61.5, failureRate: 0.5 },
            {
                mode: "automated",
                concurrency: 2,
                runs: 0,
                leadTimeP50: "not run",
                leadTimeP95: "not run",
                failureRate: "not run",
            },
            {
                mode: "automated",
                concurrency: 4,
                runs: 0,
                leadTimeP50: "not run",
                leadTimeP95: "not run",
                failureRate: "not run",
            },
        ]);
        assert.deepEqual((doc.comparison as Record<string, unknown>[])[0], {
            task: "deploy-new-version",
            mode: "manual",
            runs: 3,
            leadTimeP50: 59.96,
            leadTimeP95: 3600,
            failureRate: 0.125,
            rollbacks: 1,
            timeToRecoverP50: "n/a",
            accuracyReached: 0.9134,
            humanActionsPerRun: 7,
            handsOnMinutesPerRun: 2.5,
            cpuHoursPerRun: 0.0031,
            gpuHoursPerRun: 0,
            memoryGibHoursPerRun: null,
        });
        assert.deepEqual((doc.quality as Record<string, unknown>[])[1], {
            model: "m",
            version: "v2",
            mode: null,
            accuracy: null,
            latencyP95: 2.5,
            errorRate: 0,
            drift: 0.25,
        });
        assert.equal((doc.units as Record<string, string>).memoryGibHoursPerRun, "GiB-hours");
    });
});

describe("npm run report: the HTML page's charts", () => {
    const values = (id: string) =>
        (chartSpecs(HAND_REPORT).find((c) => c.id === id)!.spec as { data: { values: unknown[] } }).data.values;

    it("plots each column's numbers in the unit its axis names, leaving out cells without one", () => {
        assert.deepEqual(
            chartSpecs(HAND_REPORT).map((c) => [c.id, (c.spec.encoding as { y: { title: string } }).y.title]),
            [
                ["lead-time", "minutes"],
                ["failure-rate", "share of runs"],
                ["time-to-recover", "minutes"],
                ["accuracy", "accuracy"],
                ["human-actions", "actions"],
                ["hands-on", "minutes"],
                ["cpu", "CPU-hours"],
                ["gpu", "GPU-hours"],
                ["memory", "GiB-hours"],
                ["scalability-lead-time", "minutes"],
                ["scalability-failure-rate", "share of runs"],
            ],
        );
        const manual = { task: "deploy-new-version", mode: "manual" };
        assert.deepEqual(values("lead-time"), [{ ...manual, value: 59.96 / 60 }]);
        assert.deepEqual(values("failure-rate"), [{ ...manual, value: 0.125 }]);
        assert.deepEqual(values("time-to-recover"), [{ task: 'custom, "quoted"', mode: "automated", value: 1.25 }]);
        assert.deepEqual(values("accuracy"), [{ ...manual, value: 0.9134 }]);
        assert.deepEqual(values("human-actions"), [{ ...manual, value: 7 }]);
        assert.deepEqual(values("hands-on"), [{ ...manual, value: 2.5 }]);
        assert.deepEqual(values("cpu"), [{ ...manual, value: 0.0031 }]);
        assert.deepEqual(values("gpu"), [{ ...manual, value: 0 }]);
        assert.deepEqual(values("memory"), []);
        assert.deepEqual(values("scalability-lead-time"), [{ concurrency: 1, mode: "automated", value: 0.75 }]);
        assert.deepEqual(values("scalability-failure-rate"), [{ concurrency: 1, mode: "automated", value: 0.5 }]);
    });

    it("colours the modes alike in every chart and sets a task's bars side by side, one per mode", () => {
        const withMemory: Report = {
            ...HAND_REPORT,
            comparison: [
                {
                    ...HAND_REPORT.comparison[0],
                    cells: { ...HAND_REPORT.comparison[0].cells, memoryGibHoursPerRun: 0.5 },
                },
            ],
        };
        const memory = chartSpecs(withMemory).find((c) => c.id === "memory")!.spec as { data: { values: unknown[] } };
        assert.deepEqual(memory.data.values, [{ task: "deploy-new-version", mode: "manual", value: 0.5 }]);
        for (const chart of chartSpecs(HAND_REPORT)) {
            const encoding = chart.spec.encoding as Record<string, { field?: string; type?: string; scale?: unknown }>;
            assert.deepEqual(
                encoding.color,
                { field: "mode", type: "nominal", scale: { domain: [...DELIVERY_MODES] } },
                chart.id,
            );
            assert.equal(encoding.y.field, "value", chart.id);
            if (chart.id.startsWith("scalability-")) {
                assert.deepEqual([encoding.x.field, encoding.x.type], ["concurrency", "ordinal"], chart.id);
            } else {
                assert.equal(chart.spec.mark, "bar", chart.id);
                assert.deepEqual([encoding.x.field, encoding.xOffset], ["task", { field: "mode" }], chart.id);
            }
        }
    });

    it("escapes text in titles and tables, and loads nothing", async function () {
        this.timeout(60_000);
        const page = await renderHtml({
            ...HAND_REPORT,
            comparison: [{ ...HAND_REPORT.comparison[0], task: '<img src=x onerror="alert(1)">&' }],
        });
        assert.match(page, /\| &lt;img src=x onerror=&quot;alert\(1\)&quot;&gt;&amp; \| manual \| 3 \|/);
        assert.doesNotMatch(page, /<img/);
        assert.doesNotMatch(page, /<(script|link|img)[^>]+(src|href)=/);
        assert.match(page, /between 2026-12-01T08:30:45\.000Z and 2026-12-02T08:30:45\.000Z/);
        const figures = [
            ...page.matchAll(
                /<figure data-chart="([a-z-]+)"><figcaption>[^<]+<\/figcaption>\n<svg [^]*?<\/svg>\n<\/figure>/g,
            ),
        ];
        assert.deepEqual(
            figures.map((f) => f[1]),
            chartSpecs(HAND_REPORT).map((c) => c.id),
        );
        // Nothing but the figures, one per line, between the window and the tables.
        const between = page.slice(page.indexOf("</p>\n") + 5, page.indexOf("\n<h2>Tables</h2>"));
        assert.equal(between, figures.map((f) => f[0]).join("\n"));
    });
});
