/** Runs Prometheus' promtool (Debian package `prometheus`) on the rules; a missing promtool fails, never skips. */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import { prometheusRuleSpecs } from "../monitoring/rules";
import type { AlertThresholds } from "../contract/config/monitoring";

export function promtool(args: string[], cwd?: string): { status: number; output: string } {
    const r = spawnSync("promtool", args, { cwd, encoding: "utf8" });
    if (r.error) {
        const code = (r.error as NodeJS.ErrnoException).code;
        if (code === "ENOENT")
            throw new Error(
                "promtool is not on PATH: install Debian's prometheus package (apt-get install -y prometheus); .ci/run does",
            );
        throw r.error;
    }
    return { status: r.status ?? 1, output: `${r.stdout}${r.stderr}` };
}

/** Writes each PrometheusRule's groups as a Prometheus rule file `<name>.yaml` in `dir`; returns the file names. */
export function writeRuleFiles(dir: string, thresholds: AlertThresholds): string[] {
    fs.mkdirSync(dir, { recursive: true });
    return prometheusRuleSpecs(thresholds).map((spec) => {
        const file = `${spec.name}.yaml`;
        fs.writeFileSync(path.join(dir, file), stringify({ groups: spec.groups }, { lineWidth: 0 }));
        return file;
    });
}
