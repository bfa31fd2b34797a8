/**
 * The study tier: `npm run study:local -- --short` runs for real (main() of tools/study/index.ts, as the README
 * runs it) and its report is checked: every delivery mode performed deploy-new-version and rollback-bad-version,
 * the three triggers started their runs, the API steps ran against the local control plane, and every service the
 * study started is gone afterwards.
 *
 * Columns the short study cannot fill yet, and so not asserted here: CPU-, GPU- and memory-hours per run (nobody
 * pushes per-delivery resources yet), the accuracy reached by simplified and manual runs (they push no evaluation
 * accuracy), the time to recover of the pipelines' rollback runs (the rollback pipeline records no start), the lead
 * time of train-and-deploy runs (report-training overwrites it) — the instrument's defects 1, 2, 4 and 5 of issue 16.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { COMPARISON_COLUMNS } from "../../tools/report/queries";

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
    const row = (task: string, mode: string) => {
        const r = rows.find((x) => x.task === task && x.mode === mode);
        assert.ok(r, `no report row for ${task} / ${mode}`);
        return r;
    };

    before(() => {
        const json = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "study-spec-")), "report.json");
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
        assert.equal(rows.length, 15);
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
        // The automated runs (the first deploy and the git push's train-and-deploy) pushed their evaluation accuracy.
        const acc = row("deploy-new-version", "automated").accuracyReached;
        assert.ok(typeof acc === "number" && acc > 0.8 && acc <= 1, `accuracy reached ${acc}`);
    });

    it("retrained on changed data twice, started by the dataset event and by the drift alert", () => {
        const r = row("retrain-changed-data", "automated");
        assert.equal(r.runs, 2);
        assert.equal(r.failureRate, 0);
        // No lead time asserted: train-and-deploy's report-training finally task overwrites the delivery group
        // without one (issue 16, defect 1).
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
        const manual = row("rollback-bad-version", "manual").timeToRecoverP50;
        assert.ok(typeof manual === "number" && manual > 0 && manual < 120, `manual time to recover ${manual}`);
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
