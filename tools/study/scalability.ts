/**
 * The scalability runs of a study: per delivery mode, 1, 2 and 4 models delivered at once (the study task
 * SCALABILITY_TASK), the same delivery at every level, so the report's scalability table compares lead time and
 * failure rate by level:
 * - automated: one git push changing the N models; the EventListener starts one train-and-deploy per model;
 * - simplified: the person starts the simplified pipeline for each model (its last image) at once;
 * - manual: the runbook for each model at once, as in N shells.
 * The N deliveries of a level run concurrently (pipeline steps and runbook commands are child processes); a level
 * ends when all have ended, bounded by LEVEL_TIMEOUT_MS.
 */
import type { Json } from "../../contract/json";
import type { DeliveryMode } from "../../contract/metric-contract";
import { SCALABILITY_TASK } from "../../contract/study-tasks";
import type { Repo, RunRecord, Scenario } from "./scenario";

/** The most a level may take (the slowest level, 4 automated deliveries on 2 cores, takes about 2 minutes). */
export const LEVEL_TIMEOUT_MS = 8 * 60_000;

/** What the scalability runs need besides the models' scenarios. */
export interface ScalabilityDeps {
    readonly repo: Repo;
    log(line: string): void;
}

/** Outcome of one delivery of a level. */
export interface LevelDelivery {
    readonly model: string;
    readonly ok: boolean;
    readonly seconds: number;
    readonly detail: string;
}

/**
 * The params the study sets on a run the EventListener started for a scalability level: the study task, how many
 * deliveries the push started (the trigger cannot know), and the push's share of a person's action and time.
 */
export function scalabilityParams(concurrency: number, pushSeconds: number): Record<string, string> {
    return {
        "study-task": SCALABILITY_TASK,
        concurrency: String(concurrency),
        "human-actions": (1 / concurrency).toFixed(3),
        "hands-on-seconds": (pushSeconds / concurrency).toFixed(3),
    };
}

/** `pipelineRun` with `values` as its params (replacing those of the same name). */
export function withParams(pipelineRun: Record<string, Json>, values: Record<string, string>): Record<string, Json> {
    const spec = pipelineRun.spec as { params?: { name: string; value: Json }[] };
    return {
        ...pipelineRun,
        spec: {
            ...spec,
            params: [
                ...(spec.params ?? []).filter((p) => !(p.name in values)),
                ...Object.entries(values).map(([name, value]) => ({ name, value })),
            ],
        },
    };
}

/** Runs `modes` x `levels`: for each level, the first `level` scenarios deliver at once. */
export async function deliverSeveralModels(
    scenarios: readonly Scenario[],
    levels: readonly number[],
    modes: readonly DeliveryMode[],
    d: ScalabilityDeps,
): Promise<Map<string, LevelDelivery[]>> {
    const results = new Map<string, LevelDelivery[]>();
    for (const mode of modes)
        for (const level of levels) {
            if (level > scenarios.length)
                throw new Error(`scalability level ${level} needs ${level} models; the stack has ${scenarios.length}`);
            const models = scenarios.slice(0, level);
            const started = Date.now();
            const deliveries = await bounded(deliverLevel(mode, models, d), `${mode} x${level}`);
            results.set(`${mode}/${level}`, deliveries);
            d.log(
                `scalability ${mode}, ${level} at once: ${deliveries.filter((x) => x.ok).length} of ${level} delivered in ` +
                    `${((Date.now() - started) / 1000).toFixed(0)} s — ` +
                    deliveries.map((x) => `${x.model} ${x.ok ? "ok" : "failed"} ${x.seconds.toFixed(0)} s`).join(", "),
            );
        }
    return results;
}

async function deliverLevel(mode: DeliveryMode, models: readonly Scenario[], d: ScalabilityDeps) {
    const n = models.length;
    const timed = async (model: string, f: () => Promise<{ ok: boolean; detail: string }>): Promise<LevelDelivery> => {
        const t = Date.now();
        try {
            const r = await f();
            return { model, ...r, seconds: (Date.now() - t) / 1000 };
        } catch (e) {
            return { model, ok: false, detail: (e as Error).message, seconds: (Date.now() - t) / 1000 };
        }
    };
    const ofRun = (r: RunRecord) => ({
        ok: r.outcome.status === "Succeeded" || r.outcome.status === "Completed",
        detail: `${r.name} ${r.outcome.status}`,
    });
    switch (mode) {
        case "automated": {
            // One commit changing every model's parameters, one push: the person's single action for N deliveries.
            const t = Date.now();
            const push = d.repo.commitFiles(
                Object.fromEntries(
                    models.map((s, i) => [`models/${s.model}/params.txt`, `n_estimators=${100 + 10 * n + i}\n`]),
                ),
                `Tune ${n} model${n > 1 ? "s" : ""}`,
            );
            const pushSeconds = (Date.now() - t) / 1000;
            await models[0].postGitPush(push);
            const fired = await Promise.all(models.map((s) => s.takeFired("git push", `${s.model}-git-push`)));
            return Promise.all(
                models.map((s, i) =>
                    timed(s.model, async () => {
                        const [pr, trigger] = fired[i];
                        return ofRun(await s.runPipeline(withParams(pr, scalabilityParams(n, pushSeconds)), trigger));
                    }),
                ),
            );
        }
        case "simplified":
            return Promise.all(
                models.map((s) => timed(s.model, async () => ofRun(await s.simplifiedDelivery(SCALABILITY_TASK, n)))),
            );
        case "manual":
            return Promise.all(
                models.map((s) =>
                    timed(s.model, async () => {
                        await s.manualDelivery(SCALABILITY_TASK, undefined, 100, n);
                        return { ok: true, detail: "recorded" };
                    }),
                ),
            );
    }
}

async function bounded<T>(p: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
        timer = setTimeout(
            () => reject(new Error(`scalability ${what}: not done within ${LEVEL_TIMEOUT_MS / 60_000} min`)),
            LEVEL_TIMEOUT_MS,
        );
    });
    try {
        return await Promise.race([p, limit]);
    } finally {
        clearTimeout(timer);
    }
}
