/**
 * The promotion step as the cluster runs it: the ConfigMap's files written out and required, and the Task's step
 * environment with its params (and settings) put in, as Tekton would.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { alertThresholdsSchema } from "../contract/config/monitoring";
import { promotionSchema } from "../contract/config/pipelines";
import type * as Step from "../pipelines/promotion/step";
import { promoteTask, promotionScripts } from "../pipelines/promotion/task";

export const PROMOTION = promotionSchema.parse({});
export const ALERTS = alertThresholdsSchema.parse({});

/** The step exactly as shipped: the ConfigMap's files written into `dir` and required. */
export function loadShippedStep(dir: string): typeof Step {
    for (const [file, text] of Object.entries(promotionScripts())) fs.writeFileSync(path.join(dir, file), text);
    return createRequire(path.join(dir, "index.js"))(path.join(dir, "step.js")) as typeof Step;
}

/**
 * The Task's step environment: params put in, results at /tekton/results/<name>, and values taken from the
 * pipelines' settings ConfigMap (`settings`, by key) where the Task reads them from there.
 */
export function taskEnv(
    params: Record<string, string>,
    settings: Record<string, string> = { MODEL_ROUTES: JSON.stringify({ iris: "iris-0123abcd" }) },
    promotion = PROMOTION,
): NodeJS.ProcessEnv {
    const task = promoteTask(promotion, ALERTS);
    const step = task.spec.steps[0];
    const defaults = Object.fromEntries(
        task.spec.params.filter((p) => "default" in p).map((p) => [p.name, (p as { default: string }).default]),
    );
    const all = { ...defaults, ...params };
    return Object.fromEntries(
        step.env.map((e) => {
            if (!("value" in e)) {
                const key = e.valueFrom.configMapKeyRef.key;
                assert.ok(key in settings, `env ${e.name} reads settings key ${key}, which has no value`);
                return [e.name, settings[key]];
            }
            return [
                e.name,
                e.value
                    .replace(/\$\(params\.([a-z-]+)\)/g, (_, k: string) => {
                        assert.ok(k in all, `env ${e.name} uses param ${k}, which has no value`);
                        return all[k];
                    })
                    .replace(/\$\(results\.([a-z-]+)\.path\)/g, "/tekton/results/$1"),
            ];
        }),
    );
}
