/**
 * The Prometheus queries of a promotion analysis, built from the metric contract and the recording rules so a
 * renamed metric or rule changes them too. Each is a template with NAMESPACE_PLACEHOLDER (a DNS label goes there, so no quoting is needed) where the step
 * puts the version's namespace (model-version namespaces are one per version, so a namespace names a version).
 */
import { METRICS, RECORDED } from "../../contract/metric-contract";
import type { VersionSample } from "./decide";
import { NAMESPACE_PLACEHOLDER } from "./step";

export type SampleQueries = Readonly<Record<keyof VersionSample, string>>;

const sel = `{namespace="${NAMESPACE_PLACEHOLDER}"}`;

/**
 * One query per field of a VersionSample; each returns at most one series (summed or averaged over the
 * version's pods), or none when the version has no data.
 */
export function sampleQueries(): SampleQueries {
    return {
        requestRate: `sum(${RECORDED.requestRate}${sel})`,
        errorRatio: `max(${RECORDED.errorRatio}${sel})`,
        latencyP95: `max(${RECORDED.latencyP95}${sel})`,
        // A gauge per replica, each over its own recent feedback: average them.
        accuracy: `avg(${METRICS.predictionAccuracy.name}${sel})`,
    };
}
