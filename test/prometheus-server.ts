/**
 * A real Prometheus server for the tests (Debian package `prometheus`): a temporary TSDB backfilled with
 * `promtool tsdb create-blocks-from openmetrics`, served on 127.0.0.1 on a free port, stopped by stop().
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { promtool } from "./promtool";

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

export async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.once("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const port = (srv.address() as net.AddressInfo).port;
            srv.close(() => resolve(port));
        });
    });
}

/** Writes `<dir>/fixture.om` and turns it into TSDB blocks under `tsdb`. */
export function backfillOpenMetrics(dir: string, openMetrics: string, tsdb: string): void {
    const file = path.join(dir, "fixture.om");
    fs.writeFileSync(file, openMetrics);
    fs.mkdirSync(tsdb, { recursive: true });
    const r = promtool(["tsdb", "create-blocks-from", "openmetrics", "--quiet", file, tsdb]);
    if (r.status !== 0) throw new Error(`promtool tsdb create-blocks-from openmetrics failed:\n${r.output}`);
}

/** Evaluates the recording rules in `ruleFiles` over [start, end] against a running server; blocks go to `outDir`. */
export function backfillRules(
    url: string,
    ruleFiles: string[],
    start: number,
    end: number,
    outDir: string,
    cwd: string,
): void {
    fs.mkdirSync(outDir, { recursive: true });
    const r = promtool(
        [
            "tsdb",
            "create-blocks-from",
            "rules",
            "--quiet",
            `--url=${url}`,
            `--start=${start}`,
            `--end=${end}`,
            `--output-dir=${outDir}`,
            "--eval-interval=60s",
            ...ruleFiles,
        ],
        cwd,
    );
    if (r.status !== 0) throw new Error(`promtool tsdb create-blocks-from rules failed:\n${r.output}`);
}

/** Moves every block directory of `from` into the TSDB `tsdb`. */
export function moveBlocks(from: string, tsdb: string): number {
    let n = 0;
    for (const entry of fs.readdirSync(from)) {
        if (!fs.existsSync(path.join(from, entry, "meta.json"))) continue;
        fs.renameSync(path.join(from, entry), path.join(tsdb, entry));
        n++;
    }
    return n;
}

export interface RunningPrometheus {
    readonly url: string;
    stop(): Promise<void>;
}

/** Starts /usr/bin/prometheus on 127.0.0.1:<free port> over `tsdb`; resolves once /-/ready answers 200. */
export async function startPrometheus(dir: string, tsdb: string): Promise<RunningPrometheus> {
    const which = spawnSync("prometheus", ["--version"], { encoding: "utf8" });
    if (which.error)
        throw new Error(
            "prometheus is not on PATH: install Debian's prometheus package (bash tools/install-debian-packages.sh)",
        );
    const config = path.join(dir, "prometheus.yml");
    fs.writeFileSync(config, "global:\n  scrape_interval: 1m\n  evaluation_interval: 1m\n");
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child: ChildProcess = spawn(
        "prometheus",
        [
            `--config.file=${config}`,
            `--storage.tsdb.path=${tsdb}`,
            // The fixture lies in the past; retention counts from the newest block, so this keeps every block.
            "--storage.tsdb.retention.time=3650d",
            `--web.listen-address=127.0.0.1:${port}`,
            "--log.level=warn",
        ],
        { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-4000);
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const stop = async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
    };
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
        if (child.exitCode !== null)
            throw new Error(`prometheus exited with ${child.exitCode} before it was ready:\n${stderr}`);
        try {
            const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) });
            if (res.status === 200) return { url, stop };
        } catch {
            // not listening yet
        }
        if (Date.now() > deadline) {
            await stop();
            throw new Error(`prometheus was not ready within ${READY_TIMEOUT_MS / 1000} s:\n${stderr}`);
        }
        await new Promise((r) => setTimeout(r, 200));
    }
}
