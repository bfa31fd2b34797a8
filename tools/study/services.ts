/**
 * The study's real services on loopback, each a child process stopped by its PID: moto's S3 server (PyPI, the
 * project's pinned venv), and Debian's Pushgateway, Alertmanager and Prometheus loaded with the rules and the
 * Alertmanager routes the program renders. Prometheus scrapes the Pushgateway and the model servers the study's
 * kubelet starts (file service discovery, with the labels the PodMonitor keeps: the servers label their own series).
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import type { Json } from "../../contract/json";

export const ADDRESSES = {
    /** The in-cluster names resolve to these (the ports the in-cluster URLs name). */
    pushgateway: "127.0.0.26",
    prometheus: "127.0.0.27",
    store: "127.0.0.21",
    alertmanager: "127.0.0.22",
    listener: "127.0.0.23",
    gateway: "127.0.0.24",
} as const;
export const STORE_PORT = 5000;

export interface Service {
    readonly name: string;
    readonly pid: number;
    readonly url: string;
}

export class Services {
    private readonly children: { name: string; child: ChildProcess }[] = [];
    readonly started: Service[] = [];
    constructor(private readonly dir: string) {
        fs.mkdirSync(dir, { recursive: true });
        process.once("exit", () => this.killAll("SIGKILL"));
    }

    /** Starts a server, waits until `ready` answers 2xx; refuses to start over something already answering there. */
    async start(name: string, cmd: string, args: string[], url: string, ready: string): Promise<Service> {
        if (await answers(ready)) throw new Error(`${ready} already answers: something else runs there`);
        const log = fs.openSync(path.join(this.dir, `${name}.log`), "w");
        const child = spawn(cmd, args, { stdio: ["ignore", log, log], cwd: this.dir });
        child.unref();
        this.children.push({ name, child });
        const deadline = Date.now() + 60_000;
        while (!(await answers(ready))) {
            if (child.exitCode !== null)
                throw new Error(
                    `${name} exited: ${fs.readFileSync(path.join(this.dir, `${name}.log`), "utf8").slice(-800)}`,
                );
            if (Date.now() > deadline) throw new Error(`${name} not ready at ${ready}`);
            await new Promise((r) => setTimeout(r, 200));
        }
        const s = { name, pid: child.pid!, url };
        this.started.push(s);
        return s;
    }

    private killAll(signal: NodeJS.Signals) {
        for (const { child } of this.children)
            if (child.exitCode === null && child.pid) process.kill(child.pid, signal);
    }

    /** Stops every server by its PID: SIGTERM, then SIGKILL after 10 s. */
    async stop(): Promise<void> {
        this.killAll("SIGTERM");
        for (const { child } of this.children)
            for (let i = 0; i < 50 && child.exitCode === null && child.signalCode === null; i++)
                await new Promise((r) => setTimeout(r, 200));
        this.killAll("SIGKILL");
    }
}

async function answers(url: string): Promise<boolean> {
    try {
        const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
        return r.status < 500;
    } catch {
        return false;
    }
}

/** Prometheus' configuration: the Pushgateway and the model servers' metrics ports (file_sd), the rule files. */
export function prometheusConfig(opts: { pushgateway: string; targetsFile: string; ruleFiles: string[] }): string {
    return stringify({
        global: { scrape_interval: "2s", evaluation_interval: "2s" },
        alerting: { alertmanagers: [{ static_configs: [{ targets: [`${ADDRESSES.alertmanager}:9093`] }] }] },
        rule_files: opts.ruleFiles,
        scrape_configs: [
            { job_name: "pushgateway", honor_labels: true, static_configs: [{ targets: [opts.pushgateway] }] },
            // As the model-servers PodMonitor: honorLabels, path /metrics, port metrics.
            {
                job_name: "model-servers",
                honor_labels: true,
                metrics_path: "/metrics",
                file_sd_configs: [{ files: [opts.targetsFile], refresh_interval: "2s" }],
            },
        ],
    });
}

/** The rule files of the plan's PrometheusRule objects (their spec.groups, as the operator writes them). */
export function ruleFiles(prometheusRules: readonly Record<string, Json>[], dir: string): string[] {
    fs.mkdirSync(dir, { recursive: true });
    return prometheusRules.map((r) => {
        const f = path.join(dir, `${r.metadata.name}.yaml`);
        fs.writeFileSync(f, stringify({ groups: r.spec.groups }));
        return f;
    });
}

/**
 * The rendered Alertmanager configuration with what only a cluster resolves replaced: the EventListener's in-cluster
 * URL becomes its loopback address, and the chart's template directory is dropped (no templates are rendered).
 */
export function alertmanagerConfigForLoopback(rendered: Record<string, Json>, listenerUrl: string, inCluster: string) {
    const text = JSON.stringify(rendered).split(inCluster).join(listenerUrl);
    const cfg = JSON.parse(text) as Record<string, Json>;
    delete cfg.templates;
    return cfg;
}
