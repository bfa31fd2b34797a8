import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
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

    it("sets no list when a spec file is named, so `npx mocha <file>.spec.ts` runs that file alone", () => {
        assert.equal(settingsFor(["test/bench-cost.spec.ts"]).spec, undefined);
        assert.equal(settingsFor(["--grep", "cost", "components/aws/validate.spec.ts"]).spec, undefined);
        assert.ok(settingsFor(["--grep", "cost"]).spec, "options alone still run every spec");
    });
});
