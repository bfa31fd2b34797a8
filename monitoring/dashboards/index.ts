/**
 * Every dashboard of the testbed, rendered to Grafana JSON. The monitoring component provisions each as a
 * ConfigMap for the Grafana sidecar; `npm run plan` writes them to out/<stack>/dashboards/.
 */
import type * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { EXPERIMENTS, experimentsDashboard } from "./experiments";
import { GPU_FLEET, gpuFleetDashboard } from "./gpu-fleet";
import { MODEL_VERSIONS, modelVersionsDashboard } from "./model-versions";
import { OVERVIEW, overviewDashboard } from "./overview";
import type { DashboardMeta } from "./panels";
import { PIPELINES, pipelinesDashboard } from "./pipelines";

export { DASHBOARD_FOLDER, DATASOURCE } from "./panels";
export type { DashboardMeta };

export const DASHBOARDS: readonly { readonly meta: DashboardMeta; readonly build: () => dashboard.Dashboard }[] = [
    { meta: OVERVIEW, build: overviewDashboard },
    { meta: GPU_FLEET, build: gpuFleetDashboard },
    { meta: MODEL_VERSIONS, build: modelVersionsDashboard },
    { meta: PIPELINES, build: pipelinesDashboard },
    { meta: EXPERIMENTS, build: experimentsDashboard },
];

export interface RenderedDashboard extends DashboardMeta {
    /** The dashboard model as Grafana JSON. */
    readonly json: string;
}

export function renderDashboards(): RenderedDashboard[] {
    return DASHBOARDS.map(({ meta, build }) => ({ ...meta, json: JSON.stringify(build(), null, 2) }));
}
