/**
 * `npm run mutation`'s pieces that can be checked without running it: the per-module scores from a small report
 * shaped like StrykerJS's, and the configuration kept in step (every mutated file belongs to a module, the focused
 * specs exist and are not npm test's whole suite).
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import {
    MUTATION_MODULES,
    accepted,
    formatScores,
    moduleOf,
    moduleScores,
    survivors,
    staticIgnored,
    type MutationReport,
    type ReportMutant,
} from "../tools/mutation/scores";
import { PROJECT_ROOT } from "../tools/stack";

const mutant = (id: string, status: string, line = 1, extra: Partial<ReportMutant> = {}): ReportMutant => ({
    id,
    mutatorName: "EqualityOperator",
    replacement: "a !== b",
    status,
    location: { start: { line, column: 5 } },
    ...extra,
});

const REPORT: MutationReport = {
    files: {
        "pipelines/promotion/decide.ts": {
            source: "line one\nif (a === b) return;\n",
            mutants: [
                mutant("1", "Killed"),
                mutant("2", "Killed"),
                mutant("3", "Timeout"),
                mutant("4", "Survived", 2),
                mutant("5", "CompileError"),
                mutant("6", "Ignored", 2, { statusReason: "equivalent: both branches return" }),
                mutant("12", "Ignored", 1, { statusReason: 'Static mutant (and "ignoreStatic" was enabled)' }),
            ],
        },
        "contract/config/models.ts": { source: "x", mutants: [mutant("7", "Killed"), mutant("8", "NoCoverage")] },
        "infra/config.ts": { source: "x", mutants: [mutant("9", "Killed"), mutant("10", "RuntimeError")] },
        "tools/other.ts": { source: "x", mutants: [mutant("11", "Survived")] },
    },
};

describe("npm run mutation: scores per module", () => {
    it("groups files into modules by path; other files belong to none", () => {
        assert.equal(moduleOf("contract/config/models.ts"), "config schema and validation");
        assert.equal(moduleOf("infra\\config.ts"), "config schema and validation");
        assert.equal(moduleOf("pipelines/promotion/decide.ts"), "promotion decision");
        assert.equal(moduleOf("pipelines/promotion/decide.spec.ts"), undefined);
        assert.equal(moduleOf("infra/configuration.ts"), undefined);
        assert.equal(moduleOf("tools/other.ts"), undefined);
    });

    it("scores detected (killed, timed out) over valid mutants; compile, runtime errors and ignored ones do not count", () => {
        const scores = Object.fromEntries(moduleScores(REPORT).map((s) => [s.module, s]));
        assert.deepEqual(scores["promotion decision"], {
            module: "promotion decision",
            files: 1,
            killed: 2,
            timeout: 1,
            survived: 1,
            noCoverage: 0,
            excluded: 3,
            score: 75,
        });
        assert.deepEqual(
            [scores["config schema and validation"].files, scores["config schema and validation"].score],
            [2, 66.7],
        );
        assert.equal(scores["subnet planning"].score, null, "no file, no score");
        assert.deepEqual(
            moduleScores(REPORT).map((s) => s.module),
            Object.keys(MUTATION_MODULES),
        );
    });

    it("lists every survivor and uncovered mutant with its code, and the ignored ones with their reason", () => {
        assert.deepEqual(survivors(REPORT), [
            {
                module: "config schema and validation",
                where: "contract/config/models.ts:1:5",
                mutator: "EqualityOperator",
                original: "",
                replacement: "a !== b",
                status: "NoCoverage",
            },
            {
                module: "promotion decision",
                where: "pipelines/promotion/decide.ts:2:5",
                mutator: "EqualityOperator",
                original: "a === b) return;",
                replacement: "a !== b",
                status: "Survived",
            },
        ]);
        assert.deepEqual(accepted(REPORT), [
            {
                where: "pipelines/promotion/decide.ts:2:5",
                mutator: "EqualityOperator",
                reason: "equivalent: both branches return",
            },
        ]);
        assert.equal(staticIgnored(REPORT), 1, "a static mutant skipped by --ignoreStatic is counted, not accepted");
        const text = formatScores(moduleScores(REPORT), survivors(REPORT), 85);
        assert.match(text, /^\| promotion decision \| 1 \| 4 \| 2 \| 1 \| 1 \| 0 \| 75\.0 % \(below 85 %\) \|$/m);
        assert.match(text, /^\| subnet planning \| 0 \| 0 \| 0 \| 0 \| 0 \| 0 \| – \|$/m);
        assert.match(text, /^Survivors \(2\):$/m);
    });

    it("the configuration is in step: every mutated file is in a module, every module has files, the focused specs exist", async () => {
        const config = (await import(pathToFileURL(path.join(PROJECT_ROOT, "stryker.config.mjs")).href)).default;
        for (const pattern of config.mutate as string[]) {
            // An exclusion may only keep specs that sit beside the sources out of the mutants.
            if (pattern.startsWith("!")) {
                assert.match(pattern, /^!.*\*\.spec\.ts$/, `${pattern} excludes only specs`);
                continue;
            }
            const file = pattern.replace(/\*\.ts$/, "");
            assert.ok(moduleOf(file), `${pattern} belongs to a module`);
            assert.ok(fs.existsSync(path.join(PROJECT_ROOT, file)), `${pattern} exists`);
        }
        for (const [module, prefixes] of Object.entries(MUTATION_MODULES)) {
            assert.ok(
                (config.mutate as string[]).some((p) => (prefixes as readonly string[]).some((x) => p.startsWith(x))),
                `${module} is mutated`,
            );
        }
        const focused = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, ".mocharc.mutation.json"), "utf8"));
        assert.equal(config.mochaOptions.config, ".mocharc.mutation.json");
        assert.equal(focused.parallel, false, "Stryker's mocha runner runs in one process");
        for (const spec of focused.spec as string[])
            assert.ok(fs.existsSync(path.join(PROJECT_ROOT, spec)), `${spec} exists`);
    });
});
