/**
 * The upstream facts the tests check against, committed in test/facts/ by `npm run facts` (tools/facts.ts): value
 * keys of the pinned Helm charts, and the series and labels of the exporters the dashboards and rules query.
 * Nothing here reads outside the repository.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { EXPORTERS, chartFactsName, type ChartVersion } from "../contract/versions";
import type { ChartFacts, KeyNode } from "../tools/facts/charts";
import type { MetricFacts } from "../tools/facts/exporters";

export const FACTS_DIR = path.join(__dirname, "facts");

function readFacts<T>(...parts: string[]): T {
    const file = path.join(FACTS_DIR, ...parts);
    if (!fs.existsSync(file))
        throw new Error(`facts file ${path.relative(process.cwd(), file)} is missing: run \`npm run facts\``);
    return JSON.parse(fs.readFileSync(file, "utf8")) as T;
}

/** Facts of a chart version (value keys, keys documented in comments, some defaults). */
export function chartFactsOf(chart: ChartVersion): ChartFacts {
    return readFacts<ChartFacts>("charts", `${chartFactsName(chart)}.json`);
}

/** Facts of a pinned exporter (series -> labels). */
export function metricFactsOf(key: keyof typeof EXPORTERS): MetricFacts {
    const e = EXPORTERS[key];
    return readFacts<MetricFacts>("metrics", `${e.exporter}-${e.version}.json`);
}

type Tree = { readonly [key: string]: KeyNode };
const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * Key paths in `values` that none of the key trees has (several trees merge: a parent chart's section and the
 * subchart's own keys). Inside an open key (free-form) nothing is checked; `open` adds paths treated that way.
 */
export function unknownValueKeys(
    values: unknown,
    trees: readonly Tree[],
    open: readonly string[] = [],
    at = "",
): string[] {
    if (!isMap(values)) return [];
    const problems: string[] = [];
    for (const [key, value] of Object.entries(values)) {
        const keyPath = at ? `${at}.${key}` : key;
        const found = trees.filter((t) => key in t).map((t) => t[key]);
        if (found.length === 0) {
            problems.push(keyPath);
            continue;
        }
        if (open.includes(keyPath) || !isMap(value) || found.includes("open")) continue;
        const maps = found.filter((f): f is Tree => typeof f === "object");
        if (maps.length === 0) {
            problems.push(`${keyPath} (a map here, but the chart has a scalar)`);
            continue;
        }
        problems.push(...unknownValueKeys(value, maps, open, keyPath));
    }
    return problems;
}

/** Checks values against a chart version and its subcharts (whose values sit under their own key). */
export function unknownChartKeys(
    values: Record<string, unknown>,
    chart: ChartVersion,
    subcharts: Readonly<Record<string, ChartVersion>> = {},
): string[] {
    const root = chartFactsOf(chart).keys;
    const problems: string[] = [];
    for (const [key, value] of Object.entries(values)) {
        const sub = subcharts[key];
        const own = root[key];
        const trees: Tree[] = sub
            ? [{ [key]: typeof own === "object" ? own : {} }, { [key]: chartFactsOf(sub).keys }]
            : [root];
        problems.push(...unknownValueKeys({ [key]: value }, trees));
    }
    return problems;
}
