/* global require, module, __dirname */
/* eslint-disable @typescript-eslint/no-require-imports -- mocha reads its settings as CommonJS */
// Mocha's settings. Specs run in parallel worker processes (Pulumi's mocks are process-wide; a worker runs one spec
// file at a time), longest first so that no long spec starts last and keeps a worker busy alone at the end; every
// other spec follows in path order. The list is built here because spec globs would run a file named twice twice.
const fs = require("node:fs");
const path = require("node:path");

/** The longest specs (seconds of CPU each on a warm run; docs/tests.md), started first. */
const LONGEST_FIRST = [
    "test/extreme-config.spec.ts",
    "test/tools-help.spec.ts",
    "test/policy-pack.spec.ts",
    "test/store-contract.spec.ts",
    "test/plan-cache.spec.ts",
    "pipelines/workload/workload.spec.ts",
    "test/api-steps.spec.ts",
];
/** Folders whose `*.spec.ts` files are specs. */
const SPEC_FOLDERS = ["test", "components", "contract", "infra", "monitoring", "pipelines", "policy", "tools"];
/** The cluster and study tiers' specs: `npm run test:cluster` and `npm run test:study` run them, not `npm test`. */
const OTHER_TIERS = ["test/cluster", "test/study"];
/**
 * Specs beside their sources that need root (mount namespaces: the step runner's `unshare --mount`): the cluster
 * tier, which needs root anyway, runs them (.mocharc.cluster.json), so `npm test` runs as any user.
 */
const NEEDS_ROOT = ["tools/cluster/step-runner.spec.ts"];

function specsUnder(dir) {
    return fs
        .readdirSync(path.join(__dirname, dir), { withFileTypes: true })
        .flatMap((e) =>
            e.isDirectory() && e.name !== "node_modules" && !OTHER_TIERS.includes(path.posix.join(dir, e.name))
                ? specsUnder(path.posix.join(dir, e.name))
                : e.isFile() && e.name.endsWith(".spec.ts")
                  ? [path.posix.join(dir, e.name)]
                  : [],
        );
}

const found = SPEC_FOLDERS.flatMap(specsUnder).sort();
const missing = [...LONGEST_FIRST, ...NEEDS_ROOT].filter((f) => !found.includes(f));
if (missing.length > 0) throw new Error(`.mocharc.cjs: names no spec ${missing.join(", ")}`);
const all = found.filter((f) => !NEEDS_ROOT.includes(f));

/**
 * Spec files named on the command line (`npx mocha test/x.spec.ts`): mocha adds them to this file's `spec`, so the full
 * list is set only when none is named, and a spec can run alone.
 */
const named = process.argv.slice(2).filter((a) => a.endsWith(".spec.ts"));

module.exports = {
    ...(named.length === 0 ? { spec: [...LONGEST_FIRST, ...all.filter((f) => !LONGEST_FIRST.includes(f))] } : {}),
    extension: ["ts"],
    parallel: true,
    jobs: 2,
    timeout: 120000,
    forbidOnly: true,
    reporter: "spec",
};
