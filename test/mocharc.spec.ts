import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { PROJECT_ROOT } from "../tools/stack";

/** Mocha's settings as .mocharc.cjs gives them to a mocha started with these arguments. */
function settingsFor(args: readonly string[]): { spec?: string[] } {
    const script = `process.argv = [process.argv[0], "mocha", ...${JSON.stringify(args)}];
process.stdout.write(JSON.stringify(require(${JSON.stringify(path.join(PROJECT_ROOT, ".mocharc.cjs"))})));`;
    const run = spawnSync(process.execPath, ["-e", script], { cwd: PROJECT_ROOT, encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    return JSON.parse(run.stdout) as { spec?: string[] };
}

/** How mocha turns a `spec` entry into files (mocha 12 declares no types for it). */
const { lookupFiles } = createRequire(__filename)("mocha/lib/cli/lookup-files") as {
    lookupFiles: (pattern: string, extensions: string[], recursive: boolean) => string[];
};

/** Folders that hold no source: dependencies, build and report output, git's and tools' own. */
const NOT_SOURCE = new Set(["node_modules", "out", "bin"]);

/** The `*.spec.ts` files under a folder of the project ("" for all), relative, with `/` separators. */
function specsUnder(dir: string): string[] {
    return fs
        .readdirSync(path.join(PROJECT_ROOT, dir), { withFileTypes: true })
        .flatMap((e) =>
            e.isDirectory() && !NOT_SOURCE.has(e.name) && !e.name.startsWith(".")
                ? specsUnder(path.posix.join(dir, e.name))
                : e.isFile() && e.name.endsWith(".spec.ts")
                  ? [path.posix.join(dir, e.name)]
                  : [],
        );
}

describe(".mocharc.cjs", () => {
    it("lists every spec, the longest first, when none is named (npm test)", () => {
        const { spec } = settingsFor([]);
        assert.ok(spec, "a spec list");
        assert.equal(spec[0], "test/extreme-config.spec.ts");
        assert.ok(spec.includes("test/mocharc.spec.ts"));
        assert.ok(spec.includes("components/aws/validate.spec.ts"));
        assert.equal(new Set(spec).size, spec.length, "no spec twice");
        assert.ok(!spec.some((f) => f.startsWith("test/cluster/")), "the cluster tier runs on its own");
    });

    it("leaves no spec to no tier and none to two: npm test, the cluster tier and the study tier share them out", () => {
        const npmTest = new Set(settingsFor([]).spec);
        /** A tier's spec files, each entry of its config resolved by mocha's own lookup (it throws on no match). */
        const tier = (config: string) => {
            const { spec, extension } = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, config), "utf8")) as {
                spec: string[];
                extension: string[];
            };
            return spec.flatMap((entry) =>
                lookupFiles(entry, extension, false).map((f) => path.relative(PROJECT_ROOT, path.resolve(f))),
            );
        };
        const cluster = tier(".mocharc.cluster.json");
        const study = tier(".mocharc.study.json");
        assert.ok(cluster.includes("test/cluster/stacks.spec.ts") && study.length > 0, "the tiers' globs match files");
        // The step runner's spec needs root (mount namespaces): the cluster tier, which needs root anyway, runs it.
        assert.ok(cluster.includes("tools/cluster/step-runner.spec.ts"));
        assert.ok(!npmTest.has("tools/cluster/step-runner.spec.ts"));
        const runs = (f: string) =>
            [npmTest.has(f) && "npm test", cluster.includes(f) && "cluster", study.includes(f) && "study"].filter(
                Boolean,
            );
        const every = specsUnder("");
        assert.ok(every.includes("components/aws/validate.spec.ts"), "the walk finds the specs");
        assert.deepEqual(
            every.filter((f) => runs(f).length !== 1).map((f) => `${f}: ${runs(f).join(", ") || "no tier"}`),
            [],
        );
    });

    it("sets no list when a spec file is named, so `npx mocha <file>.spec.ts` runs that file alone", () => {
        assert.equal(settingsFor(["test/bench-cost.spec.ts"]).spec, undefined);
        assert.equal(settingsFor(["--grep", "cost", "components/aws/validate.spec.ts"]).spec, undefined);
        assert.ok(settingsFor(["--grep", "cost"]).spec, "options alone still run every spec");
    });
});
