/**
 * Every Task and Pipeline of the testbed, rendered as Tekton v1 objects. The Tekton component applies them; the
 * tests lint and wire-check them; the run builder starts them.
 */
import type { CredentialsSecrets, PodLabelsByRole, TaskDefinition } from "./core/context";
import { renderTask } from "./core/context";
import { PIPELINE_DEFINITIONS, type PipelineDefaults } from "./pipelines";
import type { AlertThresholds } from "../contract/config/monitoring";
import type { PromotionConfig } from "../contract/config/pipelines";
import { promoteTask } from "./promotion/task";
import { BUILD_IMAGE } from "./tasks/build-image/task";
import { CHOOSE_VERSIONS } from "./tasks/choose-versions/task";
import { DEPLOY } from "./tasks/deploy/task";
import { EVALUATE } from "./tasks/evaluate/task";
import { FETCH_SOURCE } from "./tasks/fetch-source/task";
import { QUICK_TRAIN } from "./tasks/quick-train/task";
import { REGISTER } from "./tasks/register/task";
import { REPORT } from "./tasks/report/task";
import { ROUTE } from "./tasks/route/task";
import { SMOKE_TEST } from "./tasks/smoke-test/task";
import { TRAIN } from "./tasks/train/task";
import { VALIDATE_DATA } from "./tasks/validate-data/task";
import type { Pipeline, Task, TaskLike } from "./core/tekton";

export const TASK_DEFINITIONS: readonly TaskDefinition[] = [
    FETCH_SOURCE,
    CHOOSE_VERSIONS,
    VALIDATE_DATA,
    TRAIN,
    EVALUATE,
    REGISTER,
    BUILD_IMAGE,
    DEPLOY,
    SMOKE_TEST,
    ROUTE,
    REPORT,
    QUICK_TRAIN,
];

/** The Tasks as installed; `runtimeImage` is the step runtime's reference (absent: steps keep STEP_RUNTIME). */
export function renderTasks(
    credentials: CredentialsSecrets = {},
    podLabels: PodLabelsByRole = {},
    runtimeImage?: string,
): Task[] {
    return TASK_DEFINITIONS.map((d) => renderTask(d, credentials, podLabels, runtimeImage));
}

/** The stack settings of the `promote` Task (built with its script ConfigMap by the Promotion component). */
export interface PromotionSettings {
    readonly promotion: PromotionConfig;
    readonly alerts: AlertThresholds;
}

/** Every Task the pipelines reference: the rendered ones and `promote`. The run builder and the wiring checks use it. */
export function allTasks(
    settings: PromotionSettings,
    credentials: CredentialsSecrets = {},
    runtimeImage?: string,
): TaskLike[] {
    return [...renderTasks(credentials, {}, runtimeImage), promoteTask(settings.promotion, settings.alerts)];
}

export function renderPipelines(defaults: PipelineDefaults): Pipeline[] {
    return PIPELINE_DEFINITIONS.map((build) => build(defaults));
}

export { PIPELINE_NAMES, type PipelineDefaults } from "./pipelines";
