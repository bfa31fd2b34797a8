/**
 * The mutation score of each module `npm run mutation` measures, from StrykerJS's JSON report (the
 * mutation-testing-report-schema: files → mutants with a status). The score is Stryker's: detected (killed or timed
 * out) over valid (detected, survived or not covered); ignored mutants and those that do not compile or run are not
 * counted.
 */

/** The modules measured, each by the path prefixes of its files (as in stryker.config.mjs's `mutate`). */
export const MUTATION_MODULES = {
    "config schema and validation": ["infra/config.ts", "contract/config/"],
    "promotion decision": ["pipelines/promotion/decide.ts"],
    "subnet planning": ["components/aws/subnets.ts", "contract/ipv4.ts"],
    "NetworkPolicy and RBAC builders": [
        "contract/egress.ts",
        "components/models/network-policies.ts",
        "components/models/rbac.ts",
        "pipelines/install/network-policies.ts",
        "pipelines/install/rbac.ts",
    ],
    "metric contract": ["contract/metric-contract.ts"],
    "local study": ["tools/study/"],
    "study report": ["tools/report/queries.ts", "tools/report/format.ts", "tools/report/html.ts"],
    "benchmark cost and critical path": [
        "tools/bench/cost.ts",
        "tools/bench/azure-cost.ts",
        "tools/bench/critical-path.ts",
        "tools/bench/estimates.ts",
        "tools/bench/requests.ts",
    ],
} as const satisfies Record<string, readonly string[]>;
export type MutationModule = keyof typeof MUTATION_MODULES;

/** The part of a mutant the scores read. */
export interface ReportMutant {
    readonly id: string;
    readonly mutatorName: string;
    readonly replacement?: string;
    readonly status: string;
    readonly statusReason?: string;
    readonly location: { readonly start: { readonly line: number; readonly column: number } };
}

export interface MutationReport {
    readonly files: Readonly<Record<string, { readonly source: string; readonly mutants: readonly ReportMutant[] }>>;
}

export interface ModuleScore {
    readonly module: MutationModule;
    readonly files: number;
    readonly killed: number;
    readonly timeout: number;
    readonly survived: number;
    readonly noCoverage: number;
    /** Ignored, compile and runtime errors: not counted in the score. */
    readonly excluded: number;
    /** Percent, one decimal; null when the module has no valid mutant. */
    readonly score: number | null;
}

export interface Survivor {
    readonly module: MutationModule;
    /** `file:line:column`. */
    readonly where: string;
    readonly mutator: string;
    /** The original code and what the mutant put instead. */
    readonly original: string;
    readonly replacement: string;
    readonly status: "Survived" | "NoCoverage";
}

/** The module a file belongs to, or undefined when it is none of them. */
export function moduleOf(file: string): MutationModule | undefined {
    const path = file.replace(/\\/g, "/");
    return (Object.keys(MUTATION_MODULES) as MutationModule[]).find((m) =>
        (MUTATION_MODULES[m] as readonly string[]).some((prefix) => path === prefix || path.startsWith(prefix)),
    );
}

const COUNTED = { Killed: "killed", Timeout: "timeout", Survived: "survived", NoCoverage: "noCoverage" } as const;

/** Scores of every module, in MUTATION_MODULES' order (a module without files scores null). */
export function moduleScores(report: MutationReport): ModuleScore[] {
    return (Object.keys(MUTATION_MODULES) as MutationModule[]).map((module) => {
        const files = Object.entries(report.files).filter(([file]) => moduleOf(file) === module);
        const counts = { killed: 0, timeout: 0, survived: 0, noCoverage: 0, excluded: 0 };
        for (const [, f] of files)
            for (const m of f.mutants) counts[COUNTED[m.status as keyof typeof COUNTED] ?? "excluded"]++;
        const detected = counts.killed + counts.timeout;
        const valid = detected + counts.survived + counts.noCoverage;
        return {
            module,
            files: files.length,
            ...counts,
            score: valid === 0 ? null : Math.round((1000 * detected) / valid) / 10,
        };
    });
}

/** Text of `source` from a 1-based line and column to the end of that line, trimmed to `width`. */
function codeAt(source: string, line: number, column: number, width = 60): string {
    const text = (source.split("\n")[line - 1] ?? "").slice(column - 1).trim();
    return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

/** Every mutant that survived or was not covered, by module, file and position. */
export function survivors(report: MutationReport): Survivor[] {
    const out: Survivor[] = [];
    for (const [file, f] of Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b))) {
        const module = moduleOf(file);
        if (!module) continue;
        for (const m of [...f.mutants].sort((a, b) => a.location.start.line - b.location.start.line)) {
            if (m.status !== "Survived" && m.status !== "NoCoverage") continue;
            const { line, column } = m.location.start;
            out.push({
                module,
                where: `${file}:${line}:${column}`,
                mutator: m.mutatorName,
                original: codeAt(f.source, line, column),
                replacement: (m.replacement ?? "").replace(/\s+/g, " ").slice(0, 60),
                status: m.status,
            });
        }
    }
    return out;
}

/** A mutant ignored on purpose (a `// Stryker disable` comment in the source), with the reason the comment gives. */
export interface Accepted {
    readonly where: string;
    readonly mutator: string;
    readonly reason: string;
}

/** The reason Stryker gives a static mutant it skipped (`--ignoreStatic`): not a survivor accepted in the source. */
const STATIC_IGNORED = /^Static mutant/;

/** Static mutants of the measured modules skipped by `--ignoreStatic`. */
export function staticIgnored(report: MutationReport): number {
    return Object.entries(report.files)
        .filter(([file]) => moduleOf(file) !== undefined)
        .reduce(
            (n, [, f]) =>
                n + f.mutants.filter((m) => m.status === "Ignored" && STATIC_IGNORED.test(m.statusReason ?? "")).length,
            0,
        );
}

/** Mutants ignored by a comment in the source: the survivors accepted, each with its reason. */
export function accepted(report: MutationReport): Accepted[] {
    return Object.entries(report.files)
        .filter(([file]) => moduleOf(file) !== undefined)
        .flatMap(([file, f]) =>
            f.mutants
                .filter((m) => m.status === "Ignored" && !STATIC_IGNORED.test(m.statusReason ?? ""))
                .map((m) => ({
                    where: `${file}:${m.location.start.line}:${m.location.start.column}`,
                    mutator: m.mutatorName,
                    reason: (m.statusReason ?? "").replace(/\s+/g, " ").trim(),
                })),
        );
}

/** The scores as a Markdown table (the one docs/tests.md shows), then the survivors. */
export function formatScores(scores: readonly ModuleScore[], left: readonly Survivor[], threshold: number): string {
    const rows = scores.map(
        (s) =>
            `| ${s.module} | ${s.files} | ${s.killed + s.timeout + s.survived + s.noCoverage} | ${s.killed} | ${s.timeout} | ${s.survived} | ${s.noCoverage} | ${s.score === null ? "–" : `${s.score.toFixed(1)} %`}${s.score !== null && s.score < threshold ? ` (below ${threshold} %)` : ""} |`,
    );
    const lines = [
        "| module | files | mutants | killed | timed out | survived | no coverage | score |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        ...rows,
        "",
        left.length === 0 ? "No survivors." : `Survivors (${left.length}):`,
        ...left.map(
            (s) =>
                `- ${s.module}: ${s.where} ${s.mutator}${s.status === "NoCoverage" ? " (no coverage)" : ""}: \`${s.original}\` → \`${s.replacement}\``,
        ),
    ];
    return `${lines.join("\n")}\n`;
}
