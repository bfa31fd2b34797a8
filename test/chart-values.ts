/** Checks Helm values we set against the pinned chart's values.yaml in ../shared/reference/charts/. */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { PROJECT_ROOT } from "../tools/stack";

export const REFERENCE_DIR = path.resolve(PROJECT_ROOT, "../shared/reference");

export function referenceValues(chartDir: string): Record<string, unknown> {
    const file = path.join(REFERENCE_DIR, "charts", chartDir, "values.yaml");
    if (!fs.existsSync(file)) throw new Error(`reference values not found: ${file} (shared/ must sit beside the checkout)`);
    return parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
}

/**
 * Every key path in `values` that the chart's values.yaml does not have. `openPaths` are free-form maps whose
 * insides are not checked (e.g. "grafana.grafana\\.ini"); a key whose reference value is an empty map `{}` or
 * a list is open too, since the chart documents no structure for it.
 */
export function unknownValueKeys(values: unknown, reference: unknown, openPaths: readonly string[] = [], prefix = ""): string[] {
    if (!values || typeof values !== "object" || Array.isArray(values)) return [];
    if (openPaths.includes(prefix)) return [];
    if (!reference || typeof reference !== "object" || Array.isArray(reference)) return [];
    const ref = reference as Record<string, unknown>;
    if (prefix !== "" && Object.keys(ref).length === 0) return [];
    const missing: string[] = [];
    for (const [key, value] of Object.entries(values as Record<string, unknown>)) {
        const keyPath = prefix ? `${prefix}.${key}` : key;
        if (!(key in ref)) {
            missing.push(keyPath);
            continue;
        }
        missing.push(...unknownValueKeys(value, ref[key], openPaths, keyPath));
    }
    return missing;
}
