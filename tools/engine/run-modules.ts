/**
 * The modules an engine run needs once its arguments are read (`npm run test:engine`, `npm run preview:local`): they
 * load the Pulumi SDK and its providers, the config schema (zod) and the control plane's client, about 1.5 s of CPU
 * that `--help` and a refused flag never need (test/tools-help.spec.ts starts every tool twice). Only types are
 * imported at the top; each module is required when this is called.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
export function engineRunModules() {
    return {
        program: (require("../../infra/program") as typeof import("../../infra/program")).program,
        controlPlane: require("../cluster/control-plane") as typeof import("../cluster/control-plane"),
        buildEngine: (require("./build") as typeof import("./build")).buildEngine,
        existingCluster: require("./existing-cluster") as typeof import("./existing-cluster"),
        startS3Store: (require("./s3-store") as typeof import("./s3-store")).startS3Store,
        harness: require("./harness") as typeof import("./harness"),
    };
}
/* eslint-enable @typescript-eslint/no-require-imports */
