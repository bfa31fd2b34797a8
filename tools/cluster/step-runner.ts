/**
 * Runs a rendered Tekton Task on this machine the way its TaskRun's pod would: every step in order (the first
 * failure ends the run), each step's script or command with the Task's params substituted (Tekton's `$(params.x)`,
 * `$(results.x.path)`), its env and envFrom (read from the cluster, as the kubelet reads them), the Task's volumes
 * shared between the steps and mounted at their paths, and the Task's service account's TokenRequest token, so the
 * real authorizer decides what a step may do. In-cluster credentials put the token, CA and namespace at
 * /var/run/secrets/kubernetes.io/serviceaccount and set KUBERNETES_SERVICE_HOST/PORT as the kubelet does, with
 * `kubernetes.default.svc` resolving to the API server; `kubeconfig` credentials set KUBECONFIG instead.
 *
 * Each step runs in a private mount namespace (`unshare --mount`, as root) so those paths exist for it alone. What
 * differs from a pod: the interpreters are this machine's (a bare venv of the machine's python3, Node from PATH)
 * instead of the step image's, the step runs as root, and in-cluster names of other services resolve to loopback
 * servers the caller names (`hosts`).
 */
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cacheRoot } from "../cache";
import type { Kube } from "./kube";
import {
    PACKAGE_SET_PIP_OPTIONS,
    RUNTIME_PACKAGE_SETS,
    runtimeRequirementFiles,
    runtimeTag,
} from "../../pipelines/core/runtime";
import type { Json } from "../../contract/json";

export const SA_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount";
export const RESULTS_DIR = "/tekton/results";

export interface TaskObject {
    metadata: { name: string; labels?: Record<string, string> };
    spec: {
        params?: { name: string; default?: string }[];
        results?: { name: string }[];
        stepTemplate?: StepSpec;
        steps: StepSpec[];
        volumes?: {
            name: string;
            configMap?: { name: string; items?: { key: string; path: string }[] };
            emptyDir?: object;
            secret?: { secretName: string };
        }[];
    };
}

interface EnvVar {
    name: string;
    value?: string;
    valueFrom?: {
        fieldRef?: { fieldPath: string };
        configMapKeyRef?: { name: string; key: string };
        secretKeyRef?: { name: string; key: string };
    };
}

interface StepSpec {
    name?: string;
    script?: string;
    command?: string[];
    args?: string[];
    env?: EnvVar[];
    envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
    volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
    workingDir?: string;
}

export interface TaskRun {
    /** The rendered Task. */
    readonly task: TaskObject;
    readonly params: Readonly<Record<string, string>>;
    /** Namespace the TaskRun's pod would run in. */
    readonly namespace: string;
    /** Service account the run builder assigns (the Task's role label). */
    readonly serviceAccount: string;
    /** Address the in-cluster API name resolves to (the API server listens on 443 there). */
    readonly apiServerIp: string;
    /** CA bundle of the API server. */
    readonly caFile: string;
    /** Directory with `python` and `python3` (a bare venv, like the step image's runtime) to put first on PATH. */
    readonly pythonBin: string;
    /**
     * The local step runtime (stepRuntime()): its package sets are mounted where the runtime image holds them
     * (/opt/step-runtime, /opt/kube-client), as the image brings them to every step.
     */
    readonly runtimeDir?: string;
    /** Extra host names and the loopback addresses they resolve to (a stand-in for cluster DNS of real services). */
    readonly hosts?: Readonly<Record<string, string>>;
    /** Host directories to use for named volumes instead of fresh empty ones. */
    readonly volumeDirs?: Readonly<Record<string, string>>;
    /**
     * Labels of the TaskRun's pod, for env read through the downward API (`metadata.labels['<key>']`; a label the pod
     * lacks reads as ""): Tekton puts tekton.dev/pipelineRun, tekton.dev/pipelineTask and tekton.dev/taskRun there.
     */
    readonly podLabels?: Readonly<Record<string, string>>;
    /** Name of the TaskRun, for `$(context.taskRun.name)` (default: the Task's name). */
    readonly taskRunName?: string;
    /** Steps not to run (their output is already in a volumeDirs directory). */
    readonly skipSteps?: readonly string[];
    /**
     * How the steps find the API: `in-cluster` as in a pod (the token, CA and namespace at the service-account path,
     * KUBERNETES_SERVICE_HOST/PORT), or `kubeconfig` as on a workstation (KUBECONFIG names a kubeconfig carrying the
     * same token, and nothing is at the service-account path).
     */
    readonly credentials?: "in-cluster" | "kubeconfig";
    readonly timeoutMs?: number;
    /**
     * Environment a cluster's infrastructure gives every step without the Task saying so (for the study: git's URL
     * rewrite to the local repository, pip's local package mirror); the step's own env wins over it.
     */
    readonly extraEnv?: Readonly<Record<string, string>>;
}

export interface StepOutcome {
    readonly step: string;
    readonly exitCode: number;
    readonly stdout: string;
    readonly stderr: string;
}

export interface TaskResult {
    /** 0 when every step succeeded, else the exit code of the step that failed (the later ones do not run). */
    readonly exitCode: number;
    readonly failedStep?: string;
    readonly steps: StepOutcome[];
    /** Every step's output, in order, each headed by its name. */
    readonly stdout: string;
    readonly stderr: string;
    /** Task results the steps wrote. */
    readonly results: Record<string, string>;
}

/** Substitutes `$(params.<name>)` and `$(results.<name>.path)` as Tekton does; fails on an unknown param. */
export function substitute(text: string, params: Readonly<Record<string, string>>): string {
    return text
        .replace(/\$\(params\.([A-Za-z0-9_.-]+)\)/g, (_, name: string) => {
            if (!(name in params)) throw new Error(`$(params.${name}) has no value`);
            return params[name];
        })
        .replace(/\$\(results\.([A-Za-z0-9_-]+)\.path\)/g, (_, name: string) => `${RESULTS_DIR}/${name}`);
}

/** The Task's params with their defaults, then the given ones; fails on an unknown or missing param. */
export function resolveParams(task: TaskObject, given: Readonly<Record<string, string>>): Record<string, string> {
    const declared = new Map((task.spec.params ?? []).map((p) => [p.name, p]));
    const unknown = Object.keys(given).filter((k) => !declared.has(k));
    if (unknown.length > 0) throw new Error(`task ${task.metadata.name} declares no param ${unknown.join(", ")}`);
    const out: Record<string, string> = {};
    for (const [name, p] of declared) {
        const v = given[name] ?? p.default;
        if (v === undefined) throw new Error(`task ${task.metadata.name}: param ${name} has no value and no default`);
        out[name] = v;
    }
    return out;
}

async function envOf(
    kube: Kube,
    run: TaskRun,
    step: StepSpec,
    params: Record<string, string>,
): Promise<Record<string, string>> {
    const tpl = run.task.spec.stepTemplate ?? {};
    const env: Record<string, string> = {};
    for (const from of [...(tpl.envFrom ?? []), ...(step.envFrom ?? [])]) {
        if (from.configMapRef)
            Object.assign(
                env,
                (await kube.read<Json>("v1", "ConfigMap", from.configMapRef.name, run.namespace)).data ?? {},
            );
        if (from.secretRef) {
            const data: Record<string, string> =
                (await kube.read<Json>("v1", "Secret", from.secretRef.name, run.namespace)).data ?? {};
            for (const [k, v] of Object.entries(data)) env[k] = Buffer.from(v, "base64").toString("utf8");
        }
    }
    // The step's env overrides the template's, as Tekton merges them.
    const vars = new Map<string, EnvVar>();
    for (const e of [...(tpl.env ?? []), ...(step.env ?? [])]) vars.set(e.name, e);
    const labelRef = (fieldPath: string | undefined) => /^metadata\.labels\['([^']+)'\]$/.exec(fieldPath ?? "")?.[1];
    for (const e of vars.values()) {
        if (e.value !== undefined)
            env[e.name] = substitute(e.value, params).replace(
                "$(context.taskRun.name)",
                run.taskRunName ?? run.task.metadata.name,
            );
        else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.namespace") env[e.name] = run.namespace;
        else if (labelRef(e.valueFrom?.fieldRef?.fieldPath) !== undefined)
            env[e.name] = run.podLabels?.[labelRef(e.valueFrom?.fieldRef?.fieldPath)!] ?? "";
        else if (e.valueFrom?.configMapKeyRef) {
            const { name, key } = e.valueFrom.configMapKeyRef;
            const v = (await kube.read<Json>("v1", "ConfigMap", name, run.namespace)).data?.[key];
            if (v === undefined) throw new Error(`env ${e.name}: ConfigMap ${run.namespace}/${name} has no key ${key}`);
            env[e.name] = v;
        } else if (e.valueFrom?.secretKeyRef) {
            const { name, key } = e.valueFrom.secretKeyRef;
            const v = (await kube.read<Json>("v1", "Secret", name, run.namespace)).data?.[key];
            if (v === undefined) throw new Error(`env ${e.name}: Secret ${run.namespace}/${name} has no key ${key}`);
            env[e.name] = Buffer.from(v, "base64").toString("utf8");
        } else
            throw new Error(
                `env ${e.name}: valueFrom ${JSON.stringify(e.valueFrom)} is not supported by the step runner`,
            );
    }
    return env;
}

/** Writes a volume's content into dir (a ConfigMap's keys as files; an emptyDir stays empty). */
async function materialize(kube: Kube, run: TaskRun, volumeName: string, dir: string): Promise<void> {
    const v = (run.task.spec.volumes ?? []).find((x) => x.name === volumeName);
    if (!v) throw new Error(`volume ${volumeName} is not declared by task ${run.task.metadata.name}`);
    fs.mkdirSync(dir, { recursive: true });
    if (v.configMap) {
        const cm = await kube.read<Json>("v1", "ConfigMap", v.configMap.name, run.namespace);
        const data: Record<string, string> = cm.data ?? {};
        // As the kubelet projects it: the listed keys at their paths, or every key as a file named after it.
        const items = v.configMap.items ?? Object.keys(data).map((key) => ({ key, path: key }));
        for (const { key, path: rel } of items) {
            if (data[key] === undefined)
                throw new Error(`volume ${volumeName}: ConfigMap ${v.configMap.name} has no key ${key}`);
            fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
            fs.writeFileSync(path.join(dir, rel), data[key]);
        }
    } else if (!v.emptyDir) {
        throw new Error(`volume ${volumeName}: only configMap and emptyDir volumes are supported by the step runner`);
    }
}

/** A token for the service account (TokenRequest), as the kubelet projects it into the pod. */
export async function serviceAccountToken(
    kube: Kube,
    namespace: string,
    serviceAccount: string,
    seconds = 3600,
): Promise<string> {
    const res = await kube.core.createNamespacedServiceAccountToken({
        name: serviceAccount,
        namespace,
        body: {
            apiVersion: "authentication.k8s.io/v1",
            kind: "TokenRequest",
            spec: { audiences: [], expirationSeconds: seconds },
        },
    });
    if (!res.status?.token) throw new Error(`TokenRequest for ${namespace}/${serviceAccount} returned no token`);
    return res.status.token;
}

/**
 * Mount points this process created, removed when no task of the process runs any more: removing a directory that is
 * a mount point in another mount namespace detaches that mount (Linux >= 3.18), so a Task finishing first would pull
 * /workspace/<name> from under a Task running beside it (a Pipeline's parallel tasks).
 */
const mountPoints = { running: 0, created: new Set<string>() };

/** Where a step's mount targets that do not exist on this machine are created for the run (and removed after). */
function createMountPoints(targets: readonly string[]): string[] {
    const created: string[] = [];
    for (const target of targets) {
        let p = target;
        const missing: string[] = [];
        while (!fs.existsSync(p)) {
            missing.unshift(p);
            p = path.dirname(p);
        }
        for (const dir of missing) {
            fs.mkdirSync(dir);
            created.unshift(dir);
        }
    }
    return created;
}

/**
 * Runs the Task's steps in order, as a TaskRun's pod would: volumes shared between the steps, the first failing step
 * ends the run (the later ones do not run). Resolves with each step's exit code and output and the Task results;
 * never rejects for a failing step.
 */
export async function runTask(kube: Kube, run: TaskRun): Promise<TaskResult> {
    const params = resolveParams(run.task, run.params);
    const credentials = run.credentials ?? "in-cluster";
    const root = fs.mkdtempSync(path.join(os.tmpdir(), `task-${run.task.metadata.name}-`));
    const created: string[] = [];
    const outcomes: StepOutcome[] = [];
    mountPoints.running++;
    try {
        const token = await serviceAccountToken(kube, run.namespace, run.serviceAccount);
        const sa = path.join(root, "serviceaccount");
        fs.mkdirSync(sa);
        fs.writeFileSync(path.join(sa, "token"), token);
        fs.copyFileSync(run.caFile, path.join(sa, "ca.crt"));
        fs.writeFileSync(path.join(sa, "namespace"), run.namespace);
        const kubeconfig = path.join(root, "kubeconfig.json");
        fs.writeFileSync(
            kubeconfig,
            JSON.stringify({
                apiVersion: "v1",
                kind: "Config",
                clusters: [
                    {
                        name: "local",
                        cluster: { server: `https://${run.apiServerIp}:443`, "certificate-authority": run.caFile },
                    },
                ],
                users: [{ name: run.serviceAccount, user: { token } }],
                contexts: [
                    {
                        name: "local",
                        context: { cluster: "local", user: run.serviceAccount, namespace: run.namespace },
                    },
                ],
                "current-context": "local",
            }),
        );
        const results = path.join(root, "results");
        fs.mkdirSync(results);
        const hosts = path.join(root, "hosts");
        const names: Record<string, string[]> = {
            [run.apiServerIp]: [
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local",
            ],
        };
        for (const [name, ip] of Object.entries(run.hosts ?? {})) (names[ip] ??= []).push(name);
        fs.writeFileSync(
            hosts,
            ["127.0.0.1 localhost", ...Object.entries(names).map(([ip, n]) => `${ip} ${n.join(" ")}`)].join("\n") +
                "\n",
        );

        const volumeDir = async (name: string): Promise<string> => {
            const given = run.volumeDirs?.[name];
            if (given) return given;
            const dir = path.join(root, "volumes", name);
            if (!fs.existsSync(dir)) await materialize(kube, run, name, dir);
            return dir;
        };
        const tpl = run.task.spec.stepTemplate ?? {};
        for (const step of run.task.spec.steps) {
            const name = step.name ?? "unnamed";
            if (run.skipSteps?.includes(name)) continue;
            const env = await envOf(kube, run, step, params);
            const mounts: [string, string][] = [
                [results, RESULTS_DIR],
                [hosts, "/etc/hosts"],
            ];
            if (credentials === "in-cluster") mounts.push([sa, SA_MOUNT]);
            if (run.runtimeDir)
                for (const [set, p] of Object.entries(RUNTIME_PACKAGE_SETS))
                    mounts.push([path.join(run.runtimeDir, set), p.path]);
            for (const m of [...(tpl.volumeMounts ?? []), ...(step.volumeMounts ?? [])])
                mounts.push([await volumeDir(m.name), m.mountPath]);
            created.push(...createMountPoints(mounts.filter(([, t]) => t !== "/etc/hosts").map(([, t]) => t)));

            let argv: string[];
            if (step.script !== undefined) {
                const script = path.join(root, `script-${name}`);
                fs.writeFileSync(script, substitute(step.script, params), { mode: 0o755 });
                argv = [script];
            } else if (step.command) {
                argv = [...step.command, ...(step.args ?? [])].map((a) => substitute(a, params));
            } else {
                throw new Error(`step ${name} has neither script nor command`);
            }
            const kubelet: Record<string, string> =
                credentials === "in-cluster"
                    ? {
                          KUBERNETES_SERVICE_HOST: run.apiServerIp,
                          KUBERNETES_SERVICE_PORT: "443",
                          KUBERNETES_SERVICE_PORT_HTTPS: "443",
                      }
                    : { KUBECONFIG: kubeconfig };
            const mountScript = mounts
                .map(([src, target]) => `mount --bind ${shellQuote(src)} ${shellQuote(target)}`)
                .join(" && ");
            const { code, stdout, stderr } = await spawnCollect(
                "unshare",
                ["--mount", "--propagation", "private", "sh", "-c", `${mountScript} && exec "$@"`, name, ...argv],
                {
                    env: {
                        PATH: `${run.pythonBin}:${process.env.PATH ?? "/usr/bin:/bin"}`,
                        HOME: root,
                        ...run.extraEnv,
                        ...kubelet,
                        ...env,
                    },
                    cwd: step.workingDir ? substitute(step.workingDir, params) : root,
                    timeoutMs: run.timeoutMs ?? 300_000,
                },
            );
            outcomes.push({ step: name, exitCode: code, stdout, stderr });
            if (code !== 0) break;
        }
        const out: Record<string, string> = {};
        for (const f of fs.readdirSync(results)) out[f] = fs.readFileSync(path.join(results, f), "utf8");
        const failed = outcomes.find((o) => o.exitCode !== 0);
        return {
            exitCode: failed?.exitCode ?? 0,
            failedStep: failed?.step,
            steps: outcomes,
            stdout: outcomes.map((o) => `[${o.step}]\n${o.stdout}`).join("\n"),
            stderr: outcomes.map((o) => `[${o.step}]\n${o.stderr}`).join("\n"),
            results: out,
        };
    } finally {
        for (const dir of created) mountPoints.created.add(dir);
        if (--mountPoints.running === 0) {
            // Deepest first, so each parent is empty when its turn comes.
            for (const dir of [...mountPoints.created].sort((a, b) => b.length - a.length))
                fs.rmSync(dir, { recursive: true, force: true });
            mountPoints.created.clear();
        }
        fs.rmSync(root, { recursive: true, force: true });
    }
}

function shellQuote(s: string): string {
    return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs `cmd args` without blocking the event loop and collects its output; killed after `timeoutMs` when given (its
 * stderr then says so).
 */
export function spawnCollect(
    cmd: string,
    args: readonly string[],
    opts: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number },
): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { env: opts.env, cwd: opts.cwd, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        const timer =
            opts.timeoutMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs);
        child.on("error", reject);
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            resolve({
                code: code ?? (signal ? 128 : 1),
                stdout,
                stderr:
                    signal === "SIGKILL" && timer ? `${stderr}\n(killed after ${opts.timeoutMs! / 1000} s)` : stderr,
            });
        });
    });
}

/**
 * A bare venv (pip and nothing else, like the runtime image's base Python) created once per machine in the cache
 * beside the builds; its bin directory gives the steps `python` and `python3`. Their packages come from the local
 * step runtime (stepRuntime()), mounted where the image has them.
 */
export function stepPython(): string {
    const version = execFileSync("python3", ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"], {
        encoding: "utf8",
    }).trim();
    const cache = cacheRoot();
    const dir = path.join(cache, `step-python-${version}`);
    if (!fs.existsSync(path.join(dir, "bin", "python"))) {
        fs.rmSync(dir, { recursive: true, force: true });
        execFileSync("python3", ["-m", "venv", dir], { stdio: "inherit" });
    }
    return path.join(dir, "bin");
}

/** What building the local step runtime took: where it is, and the seconds of each package set's install (0: cached). */
export interface LocalRuntime {
    readonly dir: string;
    readonly seconds: Readonly<Record<string, number>>;
}

/**
 * The local step runtime: the cluster's runtime image's package sets (pipelines/core/runtime.ts: the same pin files,
 * the same resolver choices) installed once per content tag into the cache with the step venv's Python, for this
 * machine's platform. It is what `pulumi up` builds at install time in a cluster: the tiers build it before they
 * run or measure any step, and no step installs anything. `pipEnv` reaches pip (a local wheelhouse: PIP_FIND_LINKS,
 * PIP_NO_INDEX).
 */
export function stepRuntime(pipEnv: Readonly<Record<string, string>> = {}): LocalRuntime {
    const bin = stepPython();
    const cache = cacheRoot();
    const version = path.basename(path.dirname(bin));
    const dir = path.join(cache, `${runtimeTag()}-${version}`);
    const files = runtimeRequirementFiles();
    const seconds: Record<string, number> = {};
    if (!fs.existsSync(path.join(dir, ".complete"))) {
        fs.rmSync(dir, { recursive: true, force: true });
        for (const [set, p] of Object.entries(RUNTIME_PACKAGE_SETS)) {
            const started = Date.now();
            execFileSync(
                path.join(bin, "python"),
                [
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    ...PACKAGE_SET_PIP_OPTIONS,
                    "--target",
                    path.join(dir, set),
                    ...p.requirements.flatMap((r) => ["-r", files[r]]),
                ],
                { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, ...pipEnv } },
            );
            seconds[set] = (Date.now() - started) / 1000;
        }
        fs.writeFileSync(path.join(dir, ".complete"), "");
    } else for (const set of Object.keys(RUNTIME_PACKAGE_SETS)) seconds[set] = 0;
    return { dir, seconds };
}
