// StrykerJS over the modules whose tests are fast and pure: `npm run mutation` (not part of npm test). The mutants
// are tested by the focused specs of .mocharc.mutation.json; tools/mutation.ts prints the score per module
// from the JSON report. docs/tests.md has the last scores and the survivors accepted.
/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
    testRunner: "mocha",
    // The maintained mocha runner, loaded through a shim until its Mocha 12 fix is released (see the file).
    plugins: ["./tools/mutation/mocha-runner.mjs"],
    mochaOptions: { config: ".mocharc.mutation.json" },
    coverageAnalysis: "perTest",
    mutate: [
        "infra/config.ts",
        "contract/config/*.ts",
        // The focused specs beside the sources are tests, not code to mutate.
        "!contract/config/*.spec.ts",
        "pipelines/promotion/decide.ts",
        "components/aws/subnets.ts",
        "contract/ipv4.ts",
        "contract/egress.ts",
        "components/models/network-policies.ts",
        "components/models/rbac.ts",
        "pipelines/install/network-policies.ts",
        "pipelines/install/rbac.ts",
        "contract/metric-contract.ts",
        "tools/study/scalability.ts",
        "tools/study/traffic.ts",
        "tools/study/runbook-log.ts",
        "tools/study/roles.ts",
        "tools/study/cel.ts",
        "tools/study/dashboards.ts",
        "tools/report/queries.ts",
        "tools/report/format.ts",
        "tools/report/html.ts",
        "tools/bench/cost.ts",
        "tools/bench/azure-cost.ts",
        "tools/bench/critical-path.ts",
        "tools/bench/estimates.ts",
        "tools/bench/requests.ts",
    ],
    // Two cores, shared: one test process per core.
    concurrency: 2,
    timeoutMS: 20000,
    reporters: ["clear-text", "progress", "json", "html"],
    jsonReporter: { fileName: "out/mutation/mutation.json" },
    htmlReporter: { fileName: "out/mutation/mutation.html" },
    clearTextReporter: { allowColor: false, logTests: false, reportMutants: false },
    thresholds: { high: 90, low: 85, break: null },
    tempDirName: ".stryker-tmp",
    // The sandbox needs the sources and the committed facts; not plans, reports or caches.
    ignorePatterns: ["out", "bench/*.tmp", ".stryker-tmp"],
    cleanTempDir: "always",
};
