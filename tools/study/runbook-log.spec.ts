import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseUsageLog } from "../record-manual-delivery";
import { logApiAction, runCommand } from "./runbook-log";

describe("study: the manual runbook's usage log counts every step a person types", () => {
    let dir: string;
    let log: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "runbook-log-"));
        log = path.join(dir, "usage.log");
        fs.writeFileSync(log, "");
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("counts a command under step_usage.sh and an edit made through the API client as one action each", async () => {
        assert.equal(await runCommand("sh", ["-c", "echo hi"], {}, log), "hi\n");
        const before = Date.now();
        const value = await logApiAction(log, "kubectl -n iris-v2 apply -f model-server.yaml", async () => {
            await new Promise((r) => setTimeout(r, 300));
            return 42;
        });
        const after = Date.now();
        assert.equal(value, 42);
        const lines = fs.readFileSync(log, "utf8").trim().split("\n");
        assert.equal(lines.length, 2);
        assert.match(lines[1], /^\d+ \d+ 0 0 0 0 kubectl -n iris-v2 apply -f model-server\.yaml$/);
        // Its start in Unix seconds and its wall time in centiseconds: at least the 30 cs it waited, at most the call's.
        const [start, wallCs] = lines[1].split(" ").map(Number);
        assert.ok(start >= Math.floor(before / 1000) && start <= Math.floor(after / 1000), `${start} s`);
        assert.ok(wallCs >= 30 && wallCs <= Math.ceil((after - before) / 10), `${wallCs} cs`);
        const usage = parseUsageLog(fs.readFileSync(log, "utf8"));
        assert.equal(usage.actions, 2);
        // The edit's wall time is hands-on time: at least the 0.3 s it took.
        assert.ok(usage.handsOnSeconds >= 0.3, `${usage.handsOnSeconds} s`);
    });

    it("logs an edit that failed with exit code 1 and passes the error on", async () => {
        await assert.rejects(
            logApiAction(log, "kubectl -n gateway edit httproute", async () => {
                throw new Error("conflict");
            }),
            /conflict/,
        );
        assert.match(fs.readFileSync(log, "utf8"), /^\d+ \d+ 0 0 0 1 kubectl -n gateway edit httproute\n$/);
        assert.equal(parseUsageLog(fs.readFileSync(log, "utf8")).actions, 1);
    });

    it("refuses a command of several lines (the log holds one per line)", async () => {
        await assert.rejects(
            logApiAction(log, "kubectl apply\n-f x", async () => 1),
            /one line/,
        );
        assert.equal(fs.readFileSync(log, "utf8"), "");
    });

    it("runs commands at once: each of two waits for the other to have started", async () => {
        // Run one after the other, the first would give up (exit 1) before the second started.
        const waitFor = (mine: string, theirs: string) =>
            runCommand("sh", [
                "-c",
                `touch "$1"; i=0; while [ ! -e "$2" ]; do i=$((i+1)); [ $i -gt 100 ] && exit 1; sleep 0.05; done`,
                "sh",
                path.join(dir, mine),
                path.join(dir, theirs),
            ]);
        await Promise.all([waitFor("a", "b"), waitFor("b", "a")]);
    });

    it("runs a command with the given environment added to the study's, in the given directory", async () => {
        assert.equal(
            await runCommand("sh", ["-c", 'echo "$GREETING $HOME"; pwd'], { GREETING: "hello" }, undefined, dir),
            `hello ${process.env.HOME}\n${fs.realpathSync(dir)}\n`,
        );
    });

    it("rejects with the command's stderr when it fails", async () => {
        await assert.rejects(runCommand("sh", ["-c", "echo broken >&2; exit 3"]), /sh -c .*: broken/);
    });
});
