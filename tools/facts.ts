/**
 * `npm run facts`: derives the upstream facts the tests check against, from pinned upstream files, and writes them
 * to test/facts/ (committed; the upstream files never are). Run it after bumping a chart or exporter version in
 * contract/versions.ts.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { CHARTS, EXPORTERS, SUBCHARTS, chartFactsName, type ChartVersion } from "../contract/versions";
import { parseOptions, runAsScript, UsageError } from "./cli";
import type { MetricFacts } from "./facts/exporters";
import { PROJECT_ROOT } from "./stack";

export const USAGE = `Usage: npm run facts -- [options]

Derives the facts the tests use (value keys of every pinned Helm chart, series and labels of every exporter the
dashboards and rules query) from pinned upstream files, and writes them to test/facts/.

Options:
  --reference <dir>          Folder of pinned upstream files: charts/<chart>-<version>/values.yaml,
                             charts/dcgm-exporter-<version>/default-counters.csv, metrics/tekton-pipelines-v<minor>.txt
                             (default: $MLOPS_TESTBED_REFERENCE; one of the two is required, the project ships none)
  --values <chart>-<version>=<file>
                             values.yaml of one chart version (a local copy or \`helm show values\` output); wins over
                             --reference; repeatable
  --tekton-docs <file>       tektoncd/pipeline docs/metrics.md at the pinned version: fail when its labels disagree
  --kube-state-metrics-docs <dir>
                             kube-state-metrics docs/metrics/ at the pinned version: fail when its labels disagree
  --out <dir>                Where to write (default: test/facts)
  --check                    Write nothing; exit 1 when a facts file would change
  -h, --help                 Show this help

Exit codes: 0 done, 1 facts differ (--check) or an upstream file is missing, 2 bad arguments.`;

/** Helm value paths whose content is free-form although the chart's default is a non-empty map. */
const OPEN_VALUES: Readonly<Record<string, readonly string[]>> = {
    "kube-prometheus-stack": ["alertmanager.config", "prometheus.prometheusSpec.additionalScrapeConfigs"],
    grafana: ["grafana.ini"],
    // Any flag of the cluster-autoscaler binary: the chart turns each key into `--<key>=<value>`.
    "cluster-autoscaler": ["extraArgs"],
    // The container's ResourceRequirements, passed to the Deployment whole (toYaml); the chart's default sets only
    // requests, and its commented-out limits sit, mis-indented, under requests.
    "metrics-server": ["resources"],
};
/** Chart defaults the tests read (dot-joined paths). */
const DEFAULTS: Readonly<Record<string, readonly string[]>> = {
    "kube-prometheus-stack": ["grafana.sidecar.datasources.uid"],
};

interface Args {
    reference: string;
    values: Map<string, string>;
    tektonDocs?: string;
    ksmDocs?: string;
    out: string;
    check: boolean;
}

/** The folder of pinned upstream files: `--reference`, else `$MLOPS_TESTBED_REFERENCE`; the project ships none. */
function referenceDir(option: string | undefined): string {
    const dir = option ?? process.env.MLOPS_TESTBED_REFERENCE;
    if (!dir)
        throw new UsageError(
            "--reference <dir> (or MLOPS_TESTBED_REFERENCE) is required: the folder of pinned upstream files",
        );
    return dir;
}

export function parseFactsArgs(argv: readonly string[]): Args {
    const { values } = parseOptions(argv, {
        reference: { type: "string" },
        values: { type: "string", multiple: true },
        "tekton-docs": { type: "string" },
        "kube-state-metrics-docs": { type: "string" },
        out: { type: "string" },
        check: { type: "boolean" },
    });
    const files = new Map<string, string>();
    for (const v of values.values ?? []) {
        const m = /^([^=]+)=(.+)$/.exec(v);
        if (!m) throw new UsageError(`--values takes <chart>-<version>=<file>, not "${v}"`);
        files.set(m[1], path.resolve(m[2]));
    }
    return {
        reference: path.resolve(referenceDir(values.reference)),
        values: files,
        tektonDocs: values["tekton-docs"],
        ksmDocs: values["kube-state-metrics-docs"],
        out: path.resolve(values.out ?? path.join(PROJECT_ROOT, "test", "facts")),
        check: values.check ?? false,
    };
}

/** Every chart version whose values the project sets (pinned charts with facts, and their subcharts). */
export function chartsWithFacts(): ChartVersion[] {
    const pinned = Object.values(CHARTS).filter((c) => !("valuesFacts" in c && c.valuesFacts === false));
    const subcharts = Object.values(SUBCHARTS).flatMap((s) => Object.values(s ?? {}));
    return [...pinned, ...subcharts];
}

function read(file: string): string {
    if (!fs.existsSync(file)) throw new Error(`upstream file ${file} is missing`);
    return fs.readFileSync(file, "utf8");
}

/** The facts files (relative path -> JSON text) derived from the upstream files. */
export function deriveFacts(args: Args): Map<string, string> {
    // Loaded when facts are derived, not for --help: the exporters' facts import the Tekton install (the SDK), the
    // charts' facts the yaml package.
    /* eslint-disable @typescript-eslint/no-require-imports */
    const exporters = require("./facts/exporters") as typeof import("./facts/exporters");
    const { chartFacts } = require("./facts/charts") as typeof import("./facts/charts");
    /* eslint-enable @typescript-eslint/no-require-imports */
    const { KUBELET, KUBE_STATE_METRICS, NODE_EXPORTER, PROMETHEUS, PUSHGATEWAY, dcgmFacts, tektonFacts } = exporters;
    const out = new Map<string, string>();
    const json = (v: unknown) => `${JSON.stringify(v, null, 1)}\n`;
    for (const c of chartsWithFacts()) {
        const name = chartFactsName(c);
        const file = args.values.get(name) ?? path.join(args.reference, "charts", name, "values.yaml");
        const base = name.slice(0, -(c.version.length + 1));
        const facts = chartFacts(base, c.version, read(file), {
            open: OPEN_VALUES[base],
            defaults: DEFAULTS[base],
            derivedFrom: `values.yaml of ${base} ${c.version}`,
        });
        out.set(path.join("charts", `${name}.json`), json(facts));
    }
    const dcgmVersion = EXPORTERS.dcgmExporter.version;
    const csv = path.join("charts", `dcgm-exporter-${dcgmVersion}`, "default-counters.csv");
    const tektonMinor = EXPORTERS.tektonPipelines.version.replace(/\.\d+$/, "");
    const tektonList = path.join("metrics", `tekton-pipelines-${tektonMinor}.txt`);
    const names = read(path.join(args.reference, tektonList))
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith("#"));
    const metrics: MetricFacts[] = [
        dcgmFacts(read(path.join(args.reference, csv)), dcgmVersion, `dcgm-exporter chart ${dcgmVersion}: ${csv}`),
        tektonFacts(names, EXPORTERS.tektonPipelines.version, `Tekton metric list: ${tektonList}`),
        KUBE_STATE_METRICS,
        NODE_EXPORTER,
        KUBELET,
        PROMETHEUS,
        PUSHGATEWAY,
    ];
    for (const m of metrics) out.set(path.join("metrics", `${m.exporter}-${m.version}.json`), json(m));
    return out;
}

/** Labels an upstream doc gives that differ from the facts: "<series>: doc [..], facts [..]". */
export function docDisagreements(
    docs: Map<string, string[]>,
    facts: MetricFacts,
    optional: readonly string[] = [],
    optionalPerSeries: Readonly<Record<string, readonly string[]>> = {},
) {
    const problems: string[] = [];
    for (const [name, docLabels] of docs) {
        const series = facts.series[name] ?? facts.series[`${name}_count`];
        if (!series) continue;
        const skip = [...optional, ...(optionalPerSeries[name] ?? [])];
        const want = docLabels.filter((l) => !skip.includes(l)).sort();
        const have = series.filter((l) => want.includes(l) || !optional.includes(l)).sort();
        const missing = want.filter((l) => !have.includes(l));
        if (missing.length > 0) problems.push(`${name}: the doc has ${missing.join(", ")}, the facts do not`);
    }
    return problems;
}

function crossCheck(args: Args, facts: Map<string, string>): string[] {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { labelsInMarkdown } = require("./facts/exporters") as typeof import("./facts/exporters");
    const problems: string[] = [];
    const parse = (name: string) => JSON.parse(facts.get(name)!) as MetricFacts;
    if (args.tektonDocs) {
        const t = parse(path.join("metrics", `tekton-pipelines-controller-${EXPORTERS.tektonPipelines.version}.json`));
        // Labels the doc marks optional (`*`) depend on config-observability; the facts apply the project's levels.
        const optional = ["pipelinerun", "taskrun", "reason", "pipeline", "task"];
        // The doc lists `namespace` on the throttle gauges; the source adds it only with
        // metrics.taskrun.throttle.enable-namespace, which the project leaves off.
        const p = "tekton_pipelines_controller_running_taskruns_throttled_by";
        const byConfig = { [`${p}_quota`]: ["namespace"], [`${p}_node`]: ["namespace"] };
        problems.push(...docDisagreements(labelsInMarkdown(read(args.tektonDocs)), t, optional, byConfig));
    }
    if (args.ksmDocs) {
        const docs = new Map<string, string[]>();
        for (const dir of fs.readdirSync(args.ksmDocs, { withFileTypes: true }).filter((d) => d.isDirectory()))
            for (const f of fs.readdirSync(path.join(args.ksmDocs, dir.name)).filter((n) => n.endsWith(".md")))
                for (const [k, v] of labelsInMarkdown(read(path.join(args.ksmDocs, dir.name, f)))) docs.set(k, v);
        const ksm = parse(path.join("metrics", `kube-state-metrics-${EXPORTERS.kubeStateMetrics.version}.json`));
        problems.push(...docDisagreements(docs, ksm, ["label_NODE_LABEL", "label_NS_LABEL"]));
        for (const [name, labels] of Object.entries(ksm.series)) {
            const doc = docs.get(name);
            if (!doc) problems.push(`${name}: not in the kube-state-metrics docs`);
            else if (labels.some((l) => !doc.includes(l)))
                problems.push(
                    `${name}: the facts have labels the doc does not (${labels.filter((l) => !doc.includes(l))})`,
                );
        }
    }
    return problems;
}

export function main(argv: readonly string[]): number {
    const args = parseFactsArgs(argv);
    let facts: Map<string, string>;
    try {
        facts = deriveFacts(args);
    } catch (err) {
        process.stderr.write(
            `${(err as Error).message}\n(upstream files: --reference <dir> or --values; see --help)\n`,
        );
        return 1;
    }
    const problems = crossCheck(args, facts);
    if (problems.length > 0) {
        process.stderr.write(`the label tables disagree with the upstream docs:\n  ${problems.join("\n  ")}\n`);
        return 1;
    }
    let changed = 0;
    for (const [rel, text] of facts) {
        const file = path.join(args.out, rel);
        const old = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
        if (old === text) continue;
        changed++;
        if (args.check) process.stderr.write(`${rel} would change\n`);
        else {
            fs.mkdirSync(path.dirname(file), { recursive: true });
            fs.writeFileSync(file, text);
            process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
        }
    }
    process.stdout.write(`${facts.size} facts files, ${changed} ${args.check ? "differ" : "changed"}\n`);
    return args.check && changed > 0 ? 1 : 0;
}

runAsScript(module, USAGE, main);
