/**
 * The monitoring services the promotion step talks to, as real servers on loopback: Debian's Prometheus and
 * Pushgateway. The step reaches them by their in-cluster names (the step runner resolves those to these addresses,
 * on the ports the in-cluster URLs name), Prometheus scrapes the Pushgateway every second, so series pushed there
 * are what the step's analyses query.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROMETHEUS_URL, PUSHGATEWAY_URL } from "../../contract/names";
import { sleep } from "./kube";

export interface Monitoring {
    /** In-cluster host name -> loopback address, for the step runner's hosts file. */
    readonly hosts: Record<string, string>;
    readonly prometheus: string;
    readonly pushgateway: string;
    stop(): Promise<void>;
}

function hostAndPort(url: string): { host: string; port: string } {
    const u = new URL(url);
    return { host: u.hostname, port: u.port };
}

async function ready(url: string, what: string, child: ChildProcess, log: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
        if (child.exitCode !== null) throw new Error(`${what} exited: ${fs.readFileSync(log, "utf8").slice(-1000)}`);
        try {
            if ((await fetch(url)).ok) return;
        } catch {
            // not listening yet
        }
        if (Date.now() > deadline) throw new Error(`${what} not ready at ${url}`);
        await sleep(250);
    }
}

/** Starts Pushgateway and Prometheus on the given loopback addresses, with their state under `dir`. */
export async function startMonitoring(dir: string, pushgatewayIp: string, prometheusIp: string): Promise<Monitoring> {
    fs.mkdirSync(dir, { recursive: true });
    const pg = hostAndPort(PUSHGATEWAY_URL);
    const prom = hostAndPort(PROMETHEUS_URL);
    const pushgateway = `http://${pushgatewayIp}:${pg.port}`;
    const prometheus = `http://${prometheusIp}:${prom.port}`;
    const children: ChildProcess[] = [];
    // Should the test process end without stop() (a crash, a timeout), its servers end with it.
    const onExit = () => children.forEach((c) => c.exitCode === null && c.kill("SIGKILL"));
    process.once("exit", onExit);
    const launch = (name: string, cmd: string, args: string[]) => {
        const log = path.join(dir, `${name}.log`);
        const out = fs.openSync(log, "w");
        const child = spawn(cmd, args, { stdio: ["ignore", out, out] });
        // A server left running must not keep the test process alive; stop() and the exit hook end it.
        child.unref();
        children.push(child);
        return { child, log };
    };
    const stop = async () => {
        for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
        for (const c of children) for (let i = 0; i < 40 && c.exitCode === null; i++) await sleep(250);
        for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
        process.removeListener("exit", onExit);
    };
    // Another server already answering there would pass for ours: refuse to start over it.
    for (const url of [`${pushgateway}/-/ready`, `${prometheus}/-/ready`]) {
        const answered = await fetch(url).then(
            () => true,
            () => false,
        );
        if (answered) throw new Error(`${url} already answers: another Pushgateway or Prometheus runs there`);
    }
    try {
        const p = launch("pushgateway", "prometheus-pushgateway", [`--web.listen-address=${pushgatewayIp}:${pg.port}`]);
        await ready(`${pushgateway}/-/ready`, "pushgateway", p.child, p.log);
        const config = path.join(dir, "prometheus.yml");
        fs.writeFileSync(
            config,
            [
                "global: {scrape_interval: 1s, evaluation_interval: 1s}",
                "scrape_configs:",
                "  - job_name: pushgateway",
                "    honor_labels: true",
                `    static_configs: [{targets: ["${pushgatewayIp}:${pg.port}"]}]`,
                "",
            ].join("\n"),
        );
        const q = launch("prometheus", "prometheus", [
            `--config.file=${config}`,
            `--storage.tsdb.path=${path.join(dir, "tsdb")}`,
            `--web.listen-address=${prometheusIp}:${prom.port}`,
        ]);
        await ready(`${prometheus}/-/ready`, "prometheus", q.child, q.log);
    } catch (e) {
        await stop();
        throw e;
    }
    return { hosts: { [pg.host]: pushgatewayIp, [prom.host]: prometheusIp }, prometheus, pushgateway, stop };
}

/** Pushes gauges (text exposition) to the Pushgateway under one job. */
export async function pushGauges(pushgateway: string, job: string, lines: readonly string[]): Promise<void> {
    const res = await fetch(`${pushgateway}/metrics/job/${encodeURIComponent(job)}`, {
        method: "PUT",
        headers: { "Content-Type": "text/plain; version=0.0.4" },
        body: lines.join("\n") + "\n",
    });
    if (!res.ok) throw new Error(`pushgateway: ${res.status} ${await res.text()}`);
}
