/**
 * The usage wrapper every pipeline step runs under (step_usage.sh): it runs the step's script unchanged and measures
 * its process tree, then pushes the TaskRun's usage to a Pushgateway (here a recording server on 127.0.0.1).
 */
import * as assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { parseUsageLog } from "../../tools/record-manual-delivery";
import { metricEnv } from "../core/context";

const WRAPPER = path.join(__dirname, "step_usage.sh");

interface Push {
    method: string;
    url: string;
    body: string;
}

/** Runs the wrapper (asynchronously, so the recording server answers meanwhile). */
function runWrapper(
    args: string[],
    input: string,
    env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        const p = spawn("sh", [WRAPPER, ...args], { env: { PATH: process.env.PATH!, ...env } });
        let stdout = "";
        let stderr = "";
        p.stdout.on("data", (d) => (stdout += d));
        p.stderr.on("data", (d) => (stderr += d));
        p.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
        p.stdin.end(input);
    });
}

function samples(body: string): Record<string, number> {
    return Object.fromEntries(
        body
            .split("\n")
            .filter((l) => l && !l.startsWith("#"))
            .map((l) => {
                const [name, value] = l.split(" ");
                return [name, Number(value)];
            }),
    );
}

describe("the step usage wrapper (pipelines/lib/step_usage.sh)", function () {
    this.timeout(60_000);
    let server: http.Server;
    let url: string;
    let pushes: Push[];
    let dir: string;
    const metricNames = Object.fromEntries(metricEnv().map((e) => [e.name, (e as { value: string }).value]));

    before(async () => {
        server = http.createServer((req, res) => {
            let body = "";
            req.on("data", (d) => (body += d));
            req.on("end", () => {
                pushes.push({ method: req.method!, url: req.url!, body });
                res.writeHead(200).end();
            });
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((r) => server.close(() => r())));
    beforeEach(() => {
        pushes = [];
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "step-usage-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    const env = () => ({
        ...metricNames,
        PUSHGATEWAY_URL: url,
        MLOPS_USAGE_DIR: dir,
        MLOPS_PIPELINE_RUN: "deploy-abc12",
        MLOPS_PIPELINE_TASK: "train",
        MLOPS_TASK_RUN: "deploy-abc12-train",
        MLOPS_STEP_GPUS: "2",
    });

    it("runs the script as given, keeps its output and exit code, and pushes nothing before the last step", async () => {
        const r = await runWrapper(["step", "first"], "#!/bin/sh\necho out; echo err >&2; exit 0\n", env());
        assert.deepEqual(r, { code: 0, stdout: "out\n", stderr: "err\n" });
        assert.deepEqual(pushes, []);
        const [line] = fs.readFileSync(path.join(dir, "usage"), "utf8").trim().split("\n");
        assert.match(line, /^first \d{10} \d+ \d+ \d+ \d+$/);
    });

    it("measures the process tree's CPU and memory, GPUs x wall time, and pushes the TaskRun's sums", async () => {
        // A child python that burns about 0.6 s of CPU holding 64 MiB, under a shell: the tree, not the shell, counts.
        const script =
            "#!/bin/sh\npython3 -c 'import time\nb = bytearray(64 << 20)\nt = time.process_time()\nwhile time.process_time() - t < 0.6: pass'\n";
        const first = await runWrapper(["step", "prepare"], "#!/bin/sh\nsleep 0.3\n", env());
        assert.equal(first.code, 0, first.stderr);
        const r = await runWrapper(["step", "work", "last"], script, env());
        assert.equal(r.code, 0, r.stderr);
        assert.equal(pushes.length, 1);
        assert.equal(pushes[0].method, "PUT");
        assert.equal(pushes[0].url, "/metrics/job/mlops-delivery/run/deploy-abc12/pipeline_task/train");
        const s = samples(pushes[0].body);
        const cpu = s.mlops_taskrun_cpu_seconds;
        assert.ok(cpu >= 0.5 && cpu < 5, `CPU-seconds ${cpu}`);
        const mem = s.mlops_taskrun_memory_byte_seconds;
        // 64 MiB held for at least 0.5 s, sampled from 0.1 s on.
        assert.ok(mem >= 64 * 2 ** 20 * 0.3, `memory byte-seconds ${mem}`);
        const gpu = s.mlops_taskrun_gpu_seconds;
        // Two GPUs over both steps' wall time: at least 0.3 s + 0.6 s.
        assert.ok(gpu >= 2 * 0.85 && gpu < 2 * 10, `GPU-seconds ${gpu}`);
        const start = s.mlops_taskrun_start_timestamp_seconds;
        assert.ok(Math.abs(start - Date.now() / 1000) < 60, `start ${start}`);
    });

    it("pushes when a step fails (Tekton skips the rest) and exits with the step's code", async () => {
        const r = await runWrapper(["step", "broken"], "#!/bin/sh\nexit 3\n", env());
        assert.equal(r.code, 3);
        assert.equal(pushes.length, 1);
        assert.equal(samples(pushes[0].body).mlops_taskrun_gpu_seconds >= 0, true);
    });

    it("names the TaskRun when the step runs outside a pipeline, and refuses to push without the contract's names", async () => {
        const r = await runWrapper(["step", "only", "last"], "#!/bin/sh\ntrue\n", {
            ...env(),
            MLOPS_PIPELINE_RUN: "",
            MLOPS_PIPELINE_TASK: "",
        });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(
            pushes[0].url,
            "/metrics/job/mlops-delivery/run/deploy-abc12-train/pipeline_task/deploy-abc12-train",
        );
        const bare = await runWrapper(["step", "only", "last"], "#!/bin/sh\ntrue\n", {
            PUSHGATEWAY_URL: url,
            MLOPS_USAGE_DIR: dir,
        });
        assert.match(bare.stderr, /MLOPS_METRIC_TASKRUN_CPU_SECONDS is not set/);
        assert.equal(pushes.length, 1);
    });

    it("works with busybox alone, as in the Alpine step images (ash, and wget to push)", async function () {
        // Debian's busybox stands in for Alpine's: its applets only on PATH, no python3 and no curl.
        assert.ok(
            fs.existsSync("/usr/bin/busybox"),
            "/usr/bin/busybox is missing: install Debian's busybox (bash tools/install-debian-packages.sh)",
        );
        const bin = path.join(dir, "bin");
        fs.mkdirSync(bin);
        for (const applet of [
            "sh",
            "cat",
            "chmod",
            "mkdir",
            "mktemp",
            "date",
            "sleep",
            "rm",
            "wget",
            "printf",
            "kill",
            "timeout",
        ])
            fs.symlinkSync("/usr/bin/busybox", path.join(bin, applet));
        const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
            const p = spawn(path.join(bin, "sh"), [WRAPPER, "step", "clone", "last"], {
                env: { ...env(), PATH: bin },
            });
            let stderr = "";
            p.stderr.on("data", (d) => (stderr += d));
            p.on("close", (code) => resolve({ code: code ?? -1, stderr }));
            // About 0.1 s of CPU in ash: several of the clock ticks `times` counts in.
            p.stdin.end("#!/bin/sh\ni=0; while [ $i -lt 50000 ]; do i=$((i+1)); done\n");
        });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(pushes.length, 1);
        // busybox wget only POSTs, which replaces the same metrics in the group.
        assert.equal(pushes[0].method, "POST");
        assert.equal(pushes[0].url, "/metrics/job/mlops-delivery/run/deploy-abc12/pipeline_task/train");
        const s = samples(pushes[0].body);
        assert.ok(s.mlops_taskrun_cpu_seconds > 0, `CPU-seconds ${s.mlops_taskrun_cpu_seconds} from ash's times`);
        assert.ok(s.mlops_taskrun_gpu_seconds > 0);
    });

    it("logs each command of a manual delivery with its usage and exit code", async () => {
        const log = path.join(dir, "manual.log");
        const r = await runWrapper(["command", log, "--", "sh", "-c", "echo hi; exit 4"], "", { MLOPS_STEP_GPUS: "1" });
        assert.equal(r.code, 4);
        assert.equal(r.stdout, "hi\n");
        const [line] = fs.readFileSync(log, "utf8").trim().split("\n");
        assert.match(line, /^\d{10} \d+ \d+ \d+ \d+ 4 sh -c echo hi; exit 4$/);
        // The log record-manual-delivery reads: one action, its wall time as hands-on time, one GPU held meanwhile.
        const usage = parseUsageLog(fs.readFileSync(log, "utf8"));
        assert.equal(usage.actions, 1);
        assert.equal(usage.gpuSeconds, usage.handsOnSeconds);
        assert.equal(spawnSync("sh", [WRAPPER, "nonsense"]).status, 2);
    });
});
