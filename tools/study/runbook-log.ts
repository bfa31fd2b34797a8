/**
 * The usage log of a scripted manual delivery (docs/manual-runbook.md step 1): every runbook step a person types is
 * one line of it, so `npm run record-manual-delivery -- --usage-log` counts it as a human action and its wall time
 * as hands-on time. Shell commands run under `step_usage.sh command`, which writes their line with what they used.
 * The study makes the runbook's Kubernetes edits (kubectl apply, rollout status, edit httproute) through its API
 * client rather than kubectl (not installed by the project); `logApiAction` writes their line in the same format,
 * timed here, with the CPU, memory and GPU use of kubectl itself not measured (0).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnCollect } from "../cluster/step-runner";
import { PROJECT_ROOT } from "../stack";

/** `sh pipelines/lib/step_usage.sh command <log> -- <file> <args>`: the wrapper the runbook runs each command under. */
export const STEP_USAGE = path.join(PROJECT_ROOT, "pipelines/lib/step_usage.sh");

/**
 * Runs `act` as the runbook step `command` (what a person would type, e.g. `kubectl -n iris-v2 apply -f dep.yaml`)
 * and appends its usage-log line: start (Unix s), wall time (cs), CPU ms 0, memory kB x cs 0, GPU cs 0, exit code
 * (0, or 1 when `act` threw; the error is rethrown), the command.
 */
export async function logApiAction<T>(log: string, command: string, act: () => Promise<T>): Promise<T> {
    if (/[\n\r]/.test(command)) throw new Error(`a usage-log command is one line: ${JSON.stringify(command)}`);
    const started = Date.now();
    let exit = 0;
    try {
        return await act();
    } catch (e) {
        exit = 1;
        throw e;
    } finally {
        const wallCs = Math.round((Date.now() - started) / 10);
        fs.appendFileSync(log, `${Math.floor(started / 1000)} ${wallCs} 0 0 0 ${exit} ${command}\n`);
    }
}

/**
 * Runs `file args` (under step_usage.sh's `command` mode when `log` is given) without blocking the event loop, so
 * runbooks for several models can run at once; resolves with stdout, rejects with stderr on a non-zero exit.
 */
export async function runCommand(
    file: string,
    args: readonly string[],
    env: Record<string, string> = {},
    log?: string,
    cwd?: string,
): Promise<string> {
    const [cmd, argv] = log ? ["sh", [STEP_USAGE, "command", log, "--", file, ...args]] : [file, [...args]];
    const r = await spawnCollect(cmd, argv, { env: { ...process.env, ...env }, cwd });
    if (r.code !== 0) throw new Error(`${path.basename(file)} ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
}
