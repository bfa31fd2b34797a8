/**
 * Reads the pinned upstream reference data in ../shared/reference/ (chart values, exporter metric lists). Tests
 * only; a missing reference directory fails the test that needs it, with the path it looked for.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { PROJECT_ROOT } from "../tools/stack";

export const REFERENCE_ROOT = path.resolve(PROJECT_ROOT, "..", "shared", "reference");

export function referenceFile(...parts: string[]): string {
    const file = path.join(REFERENCE_ROOT, ...parts);
    if (!fs.existsSync(file))
        throw new Error(`reference file ${file} is missing: the tests read ../shared/reference/ beside the checkout`);
    return file;
}

/** A pinned chart's values.yaml as text (for what it documents only in comments). */
export function chartValuesText(referenceDir: string): string {
    return fs.readFileSync(referenceFile("charts", referenceDir, "values.yaml"), "utf8");
}

/** A pinned chart's values.yaml, parsed. */
export function chartValues(referenceDir: string): Record<string, unknown> {
    return parse(chartValuesText(referenceDir)) as Record<string, unknown>;
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * Key paths in `values` that the reference values (several references merge: a parent chart's section and the
 * subchart's own values.yaml) do not have. Inside a reference value that is an empty map, null or a list the
 * structure is free-form and not checked; so are the `open` paths (dot-joined, e.g. "alertmanager.config").
 */
export function unknownValueKeys(
    values: unknown,
    refs: readonly unknown[],
    open: readonly string[] = [],
    at = "",
): string[] {
    if (!isMap(values)) return [];
    const problems: string[] = [];
    for (const [key, value] of Object.entries(values)) {
        const keyPath = at ? `${at}.${key}` : key;
        const found = refs
            .filter(isMap)
            .filter((r) => key in r)
            .map((r) => r[key]);
        if (found.length === 0) {
            problems.push(keyPath);
            continue;
        }
        if (open.includes(keyPath) || !isMap(value)) continue;
        if (found.some((f) => f === null || Array.isArray(f) || (isMap(f) && Object.keys(f).length === 0))) continue;
        const maps = found.filter(isMap);
        if (maps.length === 0) {
            problems.push(`${keyPath} (a map here, but the chart has a scalar)`);
            continue;
        }
        problems.push(...unknownValueKeys(value, maps, open, keyPath));
    }
    return problems;
}

/** Checks values against a pinned chart and its subcharts (values under their own key). */
export function unknownChartKeys(
    values: Record<string, unknown>,
    chart: { referenceDir: string | null },
    subcharts: Readonly<Record<string, string>> = {},
    open: readonly string[] = [],
): string[] {
    if (!chart.referenceDir) throw new Error("this chart has no reference values.yaml to check against");
    const root = chartValues(chart.referenceDir);
    const problems: string[] = [];
    for (const [key, value] of Object.entries(values)) {
        const sub = subcharts[key];
        const refs = sub ? [{ [key]: root[key] ?? {} }, { [key]: chartValues(sub) }] : [root];
        problems.push(...unknownValueKeys({ [key]: value }, refs, open));
    }
    return problems;
}

/** Series names dcgm-exporter exports by default (uncommented rows of default-counters.csv). */
export function dcgmMetricNames(): string[] {
    return fs
        .readFileSync(referenceFile("charts", "dcgm-exporter-4.8.2", "default-counters.csv"), "utf8")
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith("#"))
        .filter((l) => l.split(",")[1]?.trim() !== "label")
        .map((l) => l.split(",")[0].trim());
}

/** Series names the Tekton Pipelines controller exports. */
export function tektonMetricNames(): string[] {
    return fs
        .readFileSync(referenceFile("metrics", "tekton-pipelines-v1.15.txt"), "utf8")
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith("#"));
}
