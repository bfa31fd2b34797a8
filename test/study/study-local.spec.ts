/**
 * The study tier: `npm run study:local -- --short` runs for real (main() of tools/study/index.ts, as the README
 * runs it) and its report is checked: every delivery mode performed deploy-new-version and rollback-bad-version,
 * the three triggers started their runs, the API steps ran against the local control plane, and every service the
 * study started is gone afterwards.
 *
 * Every thesis column of every task and mode the short study performs must hold a value; the only exceptions, each
 * asserted with its reason: GPU-hours are 0 (this machine has no GPU and no step asks for one), and a manual rollback
 * may have no accuracy reached (it evaluates nothing: only a version the manual mode evaluated has one). The short
 * study runs the scalability task at 2 models at once only: its rows for 1 and 4 must say "not run", every other
 * scalability row must hold numbers.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CONCURRENCY_LEVELS, DELIVERY_MODES } from "../../contract/metric-contract";
import { SCALABILITY_TASK } from "../../contract/study-tasks";
import { COMPARISON_COLUMNS, SCALABILITY_COLUMNS } from "../../tools/report/queries";

const ROOT = path.resolve(__dirname, "..", "..");

interface Row {
    task: string;
    mode: string;
    [column: string]: string | number | null;
}

describe("npm run study:local -- --short", function () {
    this.timeout(15 * 60_000);
    let out = "";
    let rows: Row[] = [];
    let jsonFile = "";
    const row = (task: string, mode: string) => {
        const r = rows.find((x) => x.task === task && x.mode === mode);
        assert.ok(r, `no report row for ${task} / ${mode}`);
        return r;
    };

    before(() => {
        jsonFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "study-spec-")), "report.json");
        const json = jsonFile;
        const started = Date.now();
        const r = spawnSync("npm", ["run", "--silent", "study:local", "--", "--short", "--report-json", json], {
            cwd: ROOT,
            encoding: "utf8",
            maxBuffer: 64 * 1024 * 1024,
        });
        out = r.stdout;
        console.log(`    (the short study took ${((Date.now() - started) / 1000).toFixed(0)} s)`);
        assert.equal(r.status, 0, `the study failed:\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
        rows = JSON.parse(fs.readFileSync(json, "utf8")).comparison;
    });

    it("reports every task in every mode with every comparison column", () => {
        assert.equal(rows.length, 18);
        for (const r of rows) assert.deepEqual(Object.keys(r).sort(), ["mode", "task", ...COMPARISON_COLUMNS].sort());
    });

    it("delivered a new version in every mode, each run successful, with its lead time", () => {
        for (const mode of ["automated", "simplified", "manual"]) {
            const r = row("deploy-new-version", mode);
            assert.ok((r.runs as number) >= 1, `${mode}: runs ${r.runs}`);
            assert.equal(r.failureRate, 0, `${mode}: a run failed`);
            assert.ok(
                typeof r.leadTimeP50 === "number" && r.leadTimeP50 > 0 && r.leadTimeP50 < 600,
                `${mode}: lead time ${r.leadTimeP50}`,
            );
            assert.equal(r.timeToRecoverP50, "n/a");
        }
        // Every mode pushed the evaluation accuracy of the version it delivered.
        for (const mode of ["automated", "simplified", "manual"]) {
            const acc = row("deploy-new-version", mode).accuracyReached;
            assert.ok(typeof acc === "number" && acc > 0.8 && acc <= 1, `${mode}: accuracy reached ${acc}`);
        }
    });

    it("retrained on changed data twice, started by the dataset event and by the drift alert", () => {
        const r = row("retrain-changed-data", "automated");
        assert.equal(r.runs, 2);
        assert.equal(r.failureRate, 0);
        assert.ok(typeof r.leadTimeP50 === "number" && r.leadTimeP50 > 0, `lead time ${r.leadTimeP50}`);
        assert.match(out, /iris-dataset-change; automated, retrain-changed-data\): (Succeeded|Completed) in/);
        assert.match(out, /iris-retrain-alert; automated, retrain-changed-data\): (Succeeded|Completed) in/);
        assert.match(out, /ModelDataDrift: Prometheus fired it and Alertmanager delivered it \d+ s after/);
    });

    it("rolled back in every mode, counting the rollback", () => {
        for (const mode of ["automated", "simplified", "manual"]) {
            const r = row("rollback-bad-version", mode);
            assert.equal(r.runs, 1, `${mode}: runs`);
            assert.equal(r.failureRate, 0, `${mode}: failed`);
            assert.equal(r.rollbacks, 1, `${mode}: rollbacks`);
        }
        for (const mode of ["automated", "simplified", "manual"]) {
            const ttr = row("rollback-bad-version", mode).timeToRecoverP50;
            assert.ok(typeof ttr === "number" && ttr > 0 && ttr < 120, `${mode} time to recover ${ttr}`);
        }
    });

    it("fills every thesis column of every task and mode it performed, or says why not", () => {
        const performed = rows.filter((r) => (r.runs as number) > 0);
        assert.equal(
            performed.length,
            10,
            "deploy-new-version, rollback-bad-version and deliver-several-models in 3 modes, automated retrain",
        );
        for (const r of performed) {
            const at = `${r.task} / ${r.mode}`;
            for (const c of COMPARISON_COLUMNS) {
                if (
                    c === "accuracyReached" &&
                    r.task === "rollback-bad-version" &&
                    r.mode === "manual" &&
                    r[c] === null
                )
                    // A manual rollback evaluates nothing: its accuracy is the runbook's evaluation of the version it
                    // restores, which exists only when the manual delivery before it delivered that version.
                    continue;
                assert.ok(typeof r[c] === "number" || r[c] === "n/a", `${at}: ${c} is ${r[c]}`);
            }
            // This machine has no GPU and no step of these runs asks for one: 0 GPU-hours, measured, not missing.
            assert.equal(r.gpuHoursPerRun, 0, `${at}: GPU-hours`);
            assert.ok((r.leadTimeP50 as number) > 0, `${at}: lead time`);
            assert.ok((r.handsOnMinutesPerRun as number) >= 0, `${at}: hands-on minutes`);
            if (r.mode !== "manual" || r.task !== "rollback-bad-version") {
                // A pipeline run's steps and the manual delivery's commands used CPU and memory (a manual rollback's
                // single curl may use less than step_usage.sh's resolution).
                assert.ok((r.cpuHoursPerRun as number) > 0, `${at}: CPU-hours`);
                assert.ok((r.memoryGibHoursPerRun as number) > 0, `${at}: memory GiB-hours`);
            }
            if (r.accuracyReached !== null) {
                const acc = r.accuracyReached as number;
                assert.ok(acc > 0.8 && acc <= 1, `${at}: accuracy reached ${acc}`);
            }
        }
        // Ease: every runbook step of a manual delivery is an action: train, evaluate, upload, the Deployment apply,
        // the rollout wait, the smoke test's curl and the route edit (the last three through the API client); a
        // manual rollback is the curl and the route edit. None for the rollback that answers an alert; the dataset
        // upload is an action, the drift alert none.
        assert.equal(row("deploy-new-version", "manual").humanActionsPerRun, 7);
        assert.equal(row("rollback-bad-version", "manual").humanActionsPerRun, 2);
        assert.ok((row("deploy-new-version", "manual").handsOnMinutesPerRun as number) > 0);
        assert.equal(row("rollback-bad-version", "automated").humanActionsPerRun, 0);
        assert.equal(row("rollback-bad-version", "simplified").humanActionsPerRun, 1);
        assert.equal(row("retrain-changed-data", "automated").humanActionsPerRun, 0.5);
        // Two models at once: one push started both automated deliveries (half an action each); the simplified and
        // manual ones are the person's own, per model.
        assert.equal(row(SCALABILITY_TASK, "automated").humanActionsPerRun, 0.5);
        assert.equal(row(SCALABILITY_TASK, "simplified").humanActionsPerRun, 1);
        assert.equal(row(SCALABILITY_TASK, "manual").humanActionsPerRun, 7);
        assert.match(out, /automated: 1 action, the git push or dataset upload that starts the run/);
    });

    it("reports scalability at 2 models at once in every mode, and says 1 and 4 were not run", () => {
        const scalability = JSON.parse(fs.readFileSync(jsonFile, "utf8")).scalability as Row[];
        for (const mode of DELIVERY_MODES)
            for (const level of CONCURRENCY_LEVELS) {
                const r = scalability.find((x) => x.mode === mode && x.concurrency === level);
                const at = `${mode}, ${level} at once`;
                assert.ok(r, `${at}: no row`);
                if (level === 2) {
                    assert.equal(r.runs, 2, `${at}: runs`);
                    for (const c of SCALABILITY_COLUMNS) assert.equal(typeof r[c], "number", `${at}: ${c} is ${r[c]}`);
                    assert.ok((r.leadTimeP50 as number) > 0, `${at}: lead time`);
                } else {
                    assert.equal(r.runs, 0, `${at}: runs`);
                    for (const c of SCALABILITY_COLUMNS.filter((x) => x !== "runs"))
                        assert.equal(r[c], "not run", `${at}: ${c} is ${r[c]}`);
                }
            }
        assert.match(out, /Not run: 1, 4 at once: the study behind these data did not deliver at those levels/);
        // The two deliveries of a level ran at once: the study's line for each level names both models.
        for (const mode of DELIVERY_MODES)
            assert.match(
                out,
                new RegExp(`scalability ${mode}, 2 at once: \\d of 2 delivered in \\d+ s — iris \\w+ \\d+ s, iris-b `),
            );
    });

    it("measured live accuracy, latency and error rate of every model it sent labelled traffic to", () => {
        // The study ends with labelled traffic through the gateway for each model (iris and iris-b in --short): each
        // model's route must have brought it to that model's server.
        const quality = JSON.parse(fs.readFileSync(jsonFile, "utf8")).quality as {
            model: string;
            version: string;
            accuracy: number | null;
            latencyP95: number | null;
            errorRate: number | null;
        }[];
        for (const model of ["iris", "iris-b"]) {
            const measured = quality.filter(
                (q) => q.model === model && q.accuracy !== null && q.latencyP95 !== null && q.errorRate !== null,
            );
            assert.ok(measured.length > 0, `${model}: ${JSON.stringify(quality.filter((q) => q.model === model))}`);
        }
    });

    it("had every request of every model's traffic served, phase by phase", () => {
        // A failed request in a must-serve phase stops the study; the line shows what each phase sent and got served.
        const line = (model: string) => {
            const l = out.split("\n").find((x) => x.includes(`traffic to ${model}: `));
            assert.ok(l, `no traffic line for ${model}`);
            return l.slice(l.indexOf("traffic to "));
        };
        assert.equal(
            line("iris"),
            "traffic to iris: after the first version 60 of 60 served; with shifted rows (drift) 60 of 60 served; " +
                "after the drift retrain 60 of 60 served; after the manual deliveries 60 of 60 served; " +
                "after the scalability deliveries 40 of 40 served",
        );
        assert.equal(line("iris-b"), "traffic to iris-b: after the scalability deliveries 40 of 40 served");
    });

    it("runs every dashboard query: data here, or the cluster exporter it needs", () => {
        const m = /dashboard queries: (\d+) of (\d+) return data on the local Prometheus/.exec(out);
        assert.ok(m, "no dashboard summary in the output");
        assert.ok(Number(m[1]) >= 20, m[0]);
        const without = out.split("\n").filter((l) => l.includes("  no data: "));
        assert.equal(without.length, Number(m[2]) - Number(m[1]));
        for (const l of without) assert.match(l, /needs a cluster exporter \(/, l);
    });

    it("left the tasks the short study skips empty", () => {
        for (const task of ["side-by-side", "recover-failed-deployment"])
            for (const mode of ["automated", "simplified", "manual"]) assert.equal(row(task, mode).runs, 0);
    });

    it("says where each step ran: the API steps against the local control plane", () => {
        const m = /steps: (\d+) against the control plane \(the API steps\), (\d+) on this machine, (\d+) not run/.exec(
            out,
        );
        assert.ok(m, "no step summary in the output");
        assert.ok(Number(m[1]) >= 10 && Number(m[2]) >= 20, m[0]);
    });

    it("stopped every service it started, by PID", () => {
        const line = /services: (.*)/.exec(out);
        assert.ok(line);
        const pids = [...line[1].matchAll(/pid (\d+)/g)].map((x) => Number(x[1]));
        assert.deepEqual(
            [...line[1].matchAll(/(\w+) pid/g)].map((x) => x[1]),
            ["moto", "pushgateway", "alertmanager", "prometheus"],
        );
        for (const pid of pids) assert.throws(() => process.kill(pid, 0), /ESRCH/, `pid ${pid} still runs`);
        assert.match(out, /stopped every service by PID/);
    });
});
