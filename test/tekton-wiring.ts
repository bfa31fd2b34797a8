/**
 * Checks shared by the Tekton and Triggers specs: @ibm/tekton-lint over a set of objects, and our own wiring checks
 * of PipelineRuns and TriggerTemplates (tekton-lint knows Triggers kinds only in part: it checks a template's
 * params against its Pipeline, but not the runs a trigger really creates).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import type { Json } from "./json";

type Obj = Record<string, Json>;

export interface LintProblem {
    readonly message: string;
    readonly level: string;
    readonly rule?: string;
}

/** Lints objects with @ibm/tekton-lint (ES module) from a temporary directory; returns its problems. */
export async function lint(objects: readonly object[]): Promise<LintProblem[]> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tekton-lint-"));
    process.env.TL_CACHE_DIR = path.join(dir, "cache");
    objects.forEach((o, i) =>
        fs.writeFileSync(path.join(dir, `${String(i).padStart(3, "0")}.yaml`), stringify(o, { lineWidth: 0 })),
    );
    const { Config, Linter } = await import("@ibm/tekton-lint");
    const cfg = new Config({
        config: dir,
        _: [path.join(dir, "*.yaml")],
        format: "json",
        quiet: true,
        "max-warnings": -1,
        "refresh-cache": false,
    });
    const problems = await Linter.run(cfg);
    fs.rmSync(dir, { recursive: true, force: true });
    return problems.map((p: Json) => ({ message: p.message, level: p.level, rule: p.rule }));
}

/**
 * What is wrong with a PipelineRun against the Pipelines it may name: an unknown pipeline, a param the pipeline
 * does not declare, a required param not given, a required workspace not bound, a taskRunSpec for no task, a
 * task without a service account.
 */
export function runProblems(run: Obj, pipelines: readonly Obj[]): string[] {
    const name = run.spec?.pipelineRef?.name;
    const pipeline = pipelines.find((p) => p.metadata.name === name);
    if (!pipeline) return [`names no existing Pipeline (${name})`];
    const out: string[] = [];
    const declared = new Map<string, Obj>((pipeline.spec.params ?? []).map((p: Obj) => [p.name, p]));
    const given = (run.spec.params ?? []).map((p: Obj) => p.name as string);
    for (const g of given) if (!declared.has(g)) out.push(`passes ${g}, which ${name} does not declare`);
    for (const g of new Set(given)) if (given.filter((x: string) => x === g).length > 1) out.push(`passes ${g} twice`);
    for (const [n, spec] of declared)
        if (spec.default === undefined && !given.includes(n)) out.push(`misses ${name}'s required param ${n}`);
    const bound = new Set((run.spec.workspaces ?? []).map((w: Obj) => w.name));
    for (const w of pipeline.spec.workspaces ?? [])
        if (!w.optional && !bound.has(w.name)) out.push(`binds no workspace ${w.name}`);
    const tasks = new Set([...pipeline.spec.tasks, ...(pipeline.spec.finally ?? [])].map((t: Obj) => t.name));
    const specs = new Map<string, Obj>((run.spec.taskRunSpecs ?? []).map((s: Obj) => [s.pipelineTaskName, s]));
    for (const s of specs.keys()) if (!tasks.has(s)) out.push(`has a taskRunSpec for ${s}, which ${name} does not run`);
    for (const t of tasks) if (!specs.get(t)?.serviceAccountName) out.push(`gives ${t} no service account`);
    return out;
}

/** What is wrong with a TriggerTemplate: undeclared or unused $(tt.params), and the problems of each run it creates. */
export function templateProblems(template: Obj, pipelines: readonly Obj[]): string[] {
    const out: string[] = [];
    const declared = new Set((template.spec.params ?? []).map((p: Obj) => p.name as string));
    const text = JSON.stringify(template.spec.resourcetemplates);
    const used = new Set([...text.matchAll(/\$\(tt\.params\.([A-Za-z0-9_-]+)\)/g)].map((m) => m[1]));
    for (const u of used) if (!declared.has(u)) out.push(`uses undeclared param ${u}`);
    for (const d of declared as Set<string>) if (!used.has(d)) out.push(`declares ${d} but never uses it`);
    for (const r of template.spec.resourcetemplates ?? []) {
        if (r.kind !== "PipelineRun") out.push(`creates a ${r.kind}, not a PipelineRun`);
        else out.push(...runProblems(r, pipelines).map((p) => `its PipelineRun ${p}`));
    }
    return out;
}
