/**
 * Runs a rendered Tekton v1 Pipeline the way the Tekton controller (v1.15) schedules it, with the Task runs left to a
 * caller-given executor: the DAG from `runAfter` and from result references, tasks started as soon as their parents
 * are done (in parallel), `when` expressions (`in`/`notin`, on params and results), `finally` after every DAG task,
 * and the skipping rules of the controller's `skip()` (pkg/reconciler/pipelinerun/resources/pipelinerunresolution.go),
 * checked in its order:
 *
 * 1. `StoppingSkip`: a DAG task failed, so no DAG task starts any more;
 * 2. `ParentTasksSkip`: a parent was skipped for any reason but its own `when` expressions (a task skipped by `when`
 *    does not cascade to ordering-only dependents);
 * 3. `MissingResultsSkip`: a referenced result cannot be resolved because its task was skipped by `when`; for a
 *    finally task, any referenced result that cannot be resolved (its task skipped, or failed without writing it);
 * 4. `WhenExpressionsSkip`: a `when` expression is false.
 *
 * A DAG task whose referenced result is missing although its task ran (and succeeded) fails the run, as Tekton's
 * `CheckMissingResultReferences` does. Results a failed task wrote before failing stay resolvable, as they are in its
 * TaskRun's status. `$(tasks.status)` and `$(tasks.<name>.status)` are offered to finally tasks only.
 */

export interface Param {
    readonly name: string;
    readonly value: string;
}

export interface WhenExpression {
    readonly input: string;
    readonly operator: "in" | "notin";
    readonly values: readonly string[];
}

export interface PipelineTaskSpec {
    readonly name: string;
    readonly taskRef: { readonly name: string };
    readonly params?: readonly Param[];
    readonly runAfter?: readonly string[];
    readonly when?: readonly WhenExpression[];
    readonly workspaces?: readonly { readonly name: string; readonly workspace: string }[];
}

export interface PipelineSpecObject {
    readonly metadata: { readonly name: string };
    readonly spec: {
        readonly params?: readonly { readonly name: string; readonly default?: string }[];
        readonly workspaces?: readonly { readonly name: string }[];
        readonly tasks: readonly PipelineTaskSpec[];
        readonly finally?: readonly PipelineTaskSpec[];
    };
}

export type SkipReason =
    | "PipelineRun was stopping"
    | "Parent Tasks were skipped"
    | "Results were missing"
    | "When Expressions evaluated to false";

export interface TaskOutcome {
    readonly succeeded: boolean;
    /** Results the task wrote (also when it failed). */
    readonly results: Readonly<Record<string, string>>;
}

/** What the executor is asked to run: one TaskRun. */
export interface TaskRunRequest {
    readonly pipelineTask: string;
    readonly taskRef: string;
    /** Params with every variable substituted. */
    readonly params: Readonly<Record<string, string>>;
    /** Task workspace name -> pipeline workspace name. */
    readonly workspaces: Readonly<Record<string, string>>;
    readonly isFinally: boolean;
}

export type Executor = (req: TaskRunRequest) => Promise<TaskOutcome>;

export interface TaskState {
    readonly name: string;
    readonly state: "Succeeded" | "Failed" | "Skipped";
    readonly reason?: SkipReason | string;
    readonly results: Readonly<Record<string, string>>;
    readonly isFinally: boolean;
}

export interface PipelineRunOutcome {
    /** Tekton's condition reason: Succeeded, Completed (some tasks skipped), or Failed. */
    readonly status: "Succeeded" | "Completed" | "Failed";
    /** Why it failed when no task did (an invalid result reference). */
    readonly message?: string;
    /** Every task in the order it finished (or was skipped). */
    readonly tasks: readonly TaskState[];
}

export interface RunContext {
    readonly pipelineRunName: string;
    readonly namespace: string;
    readonly uid?: string;
}

const RESULT_REF = /\$\(tasks\.([a-z0-9-]+)\.results\.([A-Za-z0-9_.-]+)\)/g;

/** The tasks whose results a text references. */
export function resultRefs(text: string): { task: string; result: string }[] {
    return [...text.matchAll(RESULT_REF)].map((m) => ({ task: m[1], result: m[2] }));
}

function textsOf(pt: PipelineTaskSpec): string[] {
    return [...(pt.params ?? []).map((p) => p.value), ...(pt.when ?? []).flatMap((w) => [w.input, ...w.values])];
}

/** Parents of a DAG task: its runAfter and every task whose results it references. */
export function parentsOf(pt: PipelineTaskSpec): string[] {
    return [...new Set([...(pt.runAfter ?? []), ...textsOf(pt).flatMap((t) => resultRefs(t).map((r) => r.task))])];
}

/** The run's params: its values, then the pipeline's defaults; an unknown or missing param is an error. */
export function runParams(p: PipelineSpecObject, given: Readonly<Record<string, string>>): Record<string, string> {
    const declared = new Map((p.spec.params ?? []).map((x) => [x.name, x]));
    const unknown = Object.keys(given).filter((k) => !declared.has(k));
    if (unknown.length) throw new Error(`pipeline ${p.metadata.name} declares no param ${unknown.join(", ")}`);
    const out: Record<string, string> = {};
    for (const [name, spec] of declared) {
        const v = given[name] ?? spec.default;
        if (v === undefined) throw new Error(`pipeline ${p.metadata.name}: param ${name} has no value and no default`);
        out[name] = v;
    }
    return out;
}

/** Substitutes the variables a PipelineTask may use; throws MissingResult for a result that is not there. */
export class MissingResult extends Error {
    constructor(
        readonly task: string,
        readonly result: string,
    ) {
        super(`$(tasks.${task}.results.${result}) has no value`);
    }
}

export function substitutePipelineVars(
    text: string,
    vars: {
        params: Readonly<Record<string, string>>;
        context: RunContext & { pipelineName: string };
        results: (task: string) => Readonly<Record<string, string>> | undefined;
        taskStatus?: (task: string) => string;
        aggregateStatus?: string;
    },
): string {
    return text.replace(/\$\(([^()]+)\)/g, (whole, expr: string) => {
        let m: RegExpMatchArray | null;
        if ((m = /^params\.([A-Za-z0-9_-]+)$/.exec(expr)) || (m = /^params\["([A-Za-z0-9_.-]+)"\]$/.exec(expr))) {
            if (!(m[1] in vars.params)) throw new Error(`$(params.${m[1]}) is not a param of the pipeline`);
            return vars.params[m[1]];
        }
        if ((m = /^tasks\.([a-z0-9-]+)\.results\.([A-Za-z0-9_.-]+)$/.exec(expr))) {
            const r = vars.results(m[1])?.[m[2]];
            if (r === undefined) throw new MissingResult(m[1], m[2]);
            return r;
        }
        if (expr === "tasks.status") {
            if (vars.aggregateStatus === undefined) throw new Error("$(tasks.status) is only for finally tasks");
            return vars.aggregateStatus;
        }
        if ((m = /^tasks\.([a-z0-9-]+)\.status$/.exec(expr))) {
            if (!vars.taskStatus) throw new Error(`$(tasks.${m[1]}.status) is only for finally tasks`);
            return vars.taskStatus(m[1]);
        }
        const ctx: Record<string, string | undefined> = {
            "context.pipelineRun.name": vars.context.pipelineRunName,
            "context.pipelineRun.namespace": vars.context.namespace,
            "context.pipelineRun.uid": vars.context.uid,
            "context.pipeline.name": vars.context.pipelineName,
        };
        if (expr in ctx && ctx[expr] !== undefined) return ctx[expr];
        // Left for the TaskRun (e.g. a task's own $(params.x) inside a script) — never reached for PipelineTask fields.
        return whole;
    });
}

/** `when` semantics: every expression must hold; `in` = the input is one of the values, `notin` = it is none. */
export function whenAllows(exprs: readonly { input: string; operator: "in" | "notin"; values: readonly string[] }[]) {
    return exprs.every((w) => (w.operator === "in" ? w.values.includes(w.input) : !w.values.includes(w.input)));
}

/**
 * `$(tasks.status)` for finally tasks: Failed if any DAG task failed, Completed if none failed and some were skipped,
 * Succeeded if all succeeded.
 */
export function aggregateStatus(dag: readonly TaskState[]): "Succeeded" | "Completed" | "Failed" {
    if (dag.some((t) => t.state === "Failed")) return "Failed";
    if (dag.some((t) => t.state === "Skipped")) return "Completed";
    return "Succeeded";
}

/** Checks the DAG: known task names in runAfter and references, no cycle, finally tasks not in runAfter. */
export function validatePipeline(p: PipelineSpecObject): void {
    const names = new Set(p.spec.tasks.map((t) => t.name));
    const problems: string[] = [];
    for (const t of p.spec.tasks)
        for (const parent of parentsOf(t))
            if (!names.has(parent)) problems.push(`task ${t.name} depends on unknown task ${parent}`);
    for (const f of p.spec.finally ?? []) {
        if ((f.runAfter ?? []).length) problems.push(`finally task ${f.name} has runAfter`);
        for (const r of textsOf(f).flatMap(resultRefs))
            if (!names.has(r.task)) problems.push(`finally task ${f.name} references unknown task ${r.task}`);
    }
    if (problems.length) throw new Error(`pipeline ${p.metadata.name}: ${problems.join("; ")}`);
    const state = new Map<string, "visiting" | "done">();
    const byName = new Map(p.spec.tasks.map((t) => [t.name, t]));
    const visit = (n: string, path: string[]) => {
        if (state.get(n) === "done") return;
        if (state.get(n) === "visiting")
            throw new Error(`pipeline ${p.metadata.name}: cycle ${[...path, n].join(" -> ")}`);
        state.set(n, "visiting");
        for (const parent of parentsOf(byName.get(n)!)) visit(parent, [...path, n]);
        state.set(n, "done");
    };
    for (const t of p.spec.tasks) visit(t.name, []);
}

/** Runs the pipeline to its end; never rejects for a failing task (the executor's exceptions count as failures). */
export async function runPipeline(
    p: PipelineSpecObject,
    params: Readonly<Record<string, string>>,
    context: RunContext,
    execute: Executor,
): Promise<PipelineRunOutcome> {
    validatePipeline(p);
    const all = runParams(p, params);
    const ctx = { ...context, pipelineName: p.metadata.name };
    const states = new Map<string, TaskState>();
    const finished: TaskState[] = [];
    let invalid: string | undefined;
    const record = (s: TaskState) => {
        states.set(s.name, s);
        finished.push(s);
    };
    const resultsOf = (task: string) => states.get(task)?.results;
    const byName = new Map(p.spec.tasks.map((t) => [t.name, t]));

    const skipReason = (pt: PipelineTaskSpec): SkipReason | undefined => {
        if ([...states.values()].some((s) => !s.isFinally && s.state === "Failed") || invalid)
            return "PipelineRun was stopping";
        const parents = parentsOf(pt);
        if (
            parents.some(
                (n) =>
                    states.get(n)?.state === "Skipped" &&
                    states.get(n)?.reason !== "When Expressions evaluated to false",
            )
        )
            return "Parent Tasks were skipped";
        for (const r of textsOf(pt).flatMap(resultRefs)) {
            const parent = states.get(r.task)!;
            if (parent.results[r.result] === undefined && parent.state === "Skipped") return "Results were missing";
        }
        return undefined;
    };
    const resolve = (pt: PipelineTaskSpec, fin: { aggregate: string } | undefined) => {
        const sub = (t: string) =>
            substitutePipelineVars(t, {
                params: all,
                context: ctx,
                results: resultsOf,
                ...(fin
                    ? {
                          aggregateStatus: fin.aggregate,
                          taskStatus: (n: string) => {
                              const s = states.get(n)?.state;
                              return s === "Succeeded" || s === "Failed" ? s : "None";
                          },
                      }
                    : {}),
            });
        const taskParams = Object.fromEntries((pt.params ?? []).map((x) => [x.name, sub(x.value)]));
        const when = (pt.when ?? []).map((w) => ({ ...w, input: sub(w.input), values: w.values.map(sub) }));
        return { taskParams, when };
    };
    const request = (pt: PipelineTaskSpec, taskParams: Record<string, string>, isFinally: boolean) => ({
        pipelineTask: pt.name,
        taskRef: pt.taskRef.name,
        params: taskParams,
        workspaces: Object.fromEntries((pt.workspaces ?? []).map((w) => [w.name, w.workspace])),
        isFinally,
    });
    const run = async (req: TaskRunRequest): Promise<TaskState> => {
        let out: TaskOutcome;
        try {
            out = await execute(req);
        } catch (e) {
            out = { succeeded: false, results: {} };
            void e;
        }
        return {
            name: req.pipelineTask,
            state: out.succeeded ? "Succeeded" : "Failed",
            results: out.results,
            isFinally: req.isFinally,
        };
    };

    // The DAG: start every task whose parents are done, as soon as they are.
    const running = new Map<string, Promise<TaskState>>();
    for (;;) {
        let progressed = true;
        while (progressed) {
            progressed = false;
            for (const pt of p.spec.tasks) {
                if (states.has(pt.name) || running.has(pt.name)) continue;
                if (!parentsOf(pt).every((n) => states.has(n))) continue;
                const reason = skipReason(pt);
                if (reason) {
                    record({ name: pt.name, state: "Skipped", reason, results: {}, isFinally: false });
                    progressed = true;
                    continue;
                }
                let resolved;
                try {
                    resolved = resolve(pt, undefined);
                } catch (e) {
                    if (!(e instanceof MissingResult)) throw e;
                    // The referenced task ran but did not write the result: the run fails (Tekton's validation).
                    invalid = `invalid result reference in ${pt.name}: ${e.message}`;
                    record({
                        name: pt.name,
                        state: "Skipped",
                        reason: "PipelineRun was stopping",
                        results: {},
                        isFinally: false,
                    });
                    progressed = true;
                    continue;
                }
                if (!whenAllows(resolved.when)) {
                    record({
                        name: pt.name,
                        state: "Skipped",
                        reason: "When Expressions evaluated to false",
                        results: {},
                        isFinally: false,
                    });
                    progressed = true;
                    continue;
                }
                running.set(pt.name, run(request(pt, resolved.taskParams, false)));
            }
        }
        if (running.size === 0) break;
        const done = await Promise.race([...running.values()]);
        running.delete(done.name);
        record(done);
    }
    void byName;

    // finally: every task after the whole DAG, in parallel; skipped for missing results or a false `when`.
    const dag = finished.filter((s) => !s.isFinally);
    const aggregate = aggregateStatus(dag);
    const finals: Promise<TaskState>[] = [];
    for (const pt of p.spec.finally ?? []) {
        let resolved;
        try {
            resolved = resolve(pt, { aggregate });
        } catch (e) {
            if (!(e instanceof MissingResult)) throw e;
            record({ name: pt.name, state: "Skipped", reason: "Results were missing", results: {}, isFinally: true });
            continue;
        }
        if (!whenAllows(resolved.when)) {
            record({
                name: pt.name,
                state: "Skipped",
                reason: "When Expressions evaluated to false",
                results: {},
                isFinally: true,
            });
            continue;
        }
        finals.push(run(request(pt, resolved.taskParams, true)));
    }
    for (const s of await Promise.all(finals)) record(s);

    const failed = finished.some((s) => s.state === "Failed") || invalid !== undefined;
    return {
        status: failed ? "Failed" : finished.some((s) => s.state === "Skipped") ? "Completed" : "Succeeded",
        message: invalid,
        tasks: finished,
    };
}
