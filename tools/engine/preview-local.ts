/**
 * The pull-request workflow's `pulumi preview --diff`, locally: `npm run preview:local [-- --base <git-ref>]`.
 *
 * A reviewer sees the diff between the stack as `main` deployed it and the branch's program. Here the stack is the
 * existing-cluster stack of the engine tier (Pulumi.existing-shared-example.yaml: add-ons present, the external
 * store on loopback) on the local control plane: the program of `--base` (default `main`, taken with `git archive`
 * into the scratch folder) is deployed with `pulumi up`, then the working tree's program is previewed against that
 * state with `--diff`, and the engine's own output is printed, as the workflow comments it. No cloud account, no
 * Pulumi Cloud: a file backend and a passphrase in a scratch folder removed at the end.
 *
 * Differences from the workflow's preview: no `--policy-pack` (the policy pack runs in the Node.js language host,
 * which the module proxy does not serve: docs/engine.md); the Helm releases are left out (charts come from the
 * internet), as in npm run test:engine.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { PulumiFn } from "@pulumi/pulumi/automation";
import { parseOptions, runAsScript, UsageError } from "../cli";
import type { Cluster } from "../cluster/control-plane";
import { PROJECT_ROOT } from "../stack";
import type { PresentControllers } from "./existing-cluster";
import { engineRunModules } from "./run-modules";
import type { S3Store } from "./s3-store";

const USAGE = `Usage: npm run preview:local -- [--base <git-ref>] [--expect-no-changes] [--keep]

Prints the diff a reviewer sees in a pull request's "pulumi preview" comment, for an existing-cluster stack
(Pulumi.existing-shared-example.yaml) on a local control plane: the program of <git-ref> (default main) is deployed,
then the working tree's program is previewed against it with --diff. No cloud account.

  --base <git-ref>      the deployed program's commit (default main)
  --expect-no-changes   fail (exit 1) when the preview has changes, as pulumi preview --expect-no-changes
  --keep                keep the scratch folder (the control plane is stopped)
  -h, --help            show this help
`;

export interface PreviewLocalArgs {
    /** The git ref whose program is deployed first. */
    readonly base: string;
    /** Fail when the working tree's preview has changes (CI runs it with `--base HEAD`). */
    readonly expectNoChanges: boolean;
    /** Keep the scratch folder. */
    readonly keep: boolean;
}

export function parseArgs(argv: readonly string[]): PreviewLocalArgs {
    const { values } = parseOptions(argv, {
        base: { type: "string" },
        "expect-no-changes": { type: "boolean" },
        keep: { type: "boolean" },
    });
    if (values.base === "") throw new UsageError("--base needs a git ref");
    return {
        base: values.base ?? "main",
        expectNoChanges: values["expect-no-changes"] === true,
        keep: values.keep === true,
    };
}

/** The program of `ref`: its tree exported into `dir`, sharing this checkout's node_modules, loaded in this process. */
function programAt(ref: string, dir: string): PulumiFn {
    fs.mkdirSync(dir, { recursive: true });
    const tar = path.join(dir, "..", "base.tar");
    execFileSync("git", ["-C", PROJECT_ROOT, "archive", "--format=tar", "-o", tar, ref]);
    execFileSync("tar", ["-x", "-f", tar, "-C", dir]);
    // One @pulumi/pulumi for both programs: the link resolves to this checkout's modules.
    fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require(path.join(dir, "infra", "program")) as { program: PulumiFn }).program;
}

async function main(argv: readonly string[]): Promise<number> {
    const args = parseArgs(argv);
    const run = engineRunModules();
    /* eslint-disable @typescript-eslint/no-require-imports -- loaded with the rest, after the arguments */
    const { ENGINE_CLUSTER_IP, EXCLUDED, engineStackConfig, existingOf, presentAddonsOf } =
        require("./test-engine") as typeof import("./test-engine");
    /* eslint-enable @typescript-eslint/no-require-imports */
    const built = run.buildEngine({ log: () => undefined });
    const missing = built.filter((o) => (o.piece === "cli" || o.piece === "kubernetes") && !("record" in o));
    if (missing.length > 0) throw new Error(`engine pieces not built: ${missing.map((m) => m.piece).join(", ")}`);
    run.controlPlane.build();
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-testbed-preview-"));
    const baseProgram = programAt(args.base, path.join(root, "base"));
    let cluster: Cluster | undefined;
    let store: S3Store | undefined;
    let controllers: PresentControllers | undefined;
    try {
        cluster = await run.controlPlane.start(path.join(root, "cluster"), ENGINE_CLUSTER_IP);
        const buckets = existingOf(engineStackConfig("http://127.0.0.1")).store.buckets;
        store = await run.startS3Store(ENGINE_CLUSTER_IP, [buckets.models, buckets.datasets]);
        const config = engineStackConfig(store.endpoint);
        const present = presentAddonsOf(config, store.keys);
        await run.existingCluster.prepareExistingCluster(cluster.admin, present, existingOf(config).addons.monitoring);
        controllers = new run.existingCluster.PresentControllers(
            cluster.admin,
            present.gatewayClassName,
            ENGINE_CLUSTER_IP,
        );
        controllers.start();
        const stack = await run.harness.createScratchStack({
            root,
            project: "mlops-testbed",
            stack: "preview",
            program: baseProgram,
            providers: ["kubernetes", "random"],
            config,
            secrets: { "mlops-testbed:kubeconfig": fs.readFileSync(cluster.adminKubeconfig, "utf8") },
        });
        const exclude = { exclude: [...EXCLUDED.patterns], excludeDependents: true };
        console.log(`deploying ${args.base} (${EXCLUDED.why}: left out) ...`);
        const up = await stack.up(exclude);
        console.log(`${args.base}: ${JSON.stringify(up.summary.resourceChanges)}\n`);
        stack.workspace.program = run.program;
        const preview = await stack.preview({
            ...exclude,
            diff: true,
            onOutput: (s) => process.stdout.write(s),
        });
        const changes = Object.entries(preview.changeSummary)
            .filter(([op]) => op !== "same" && op !== "read")
            .reduce((n, [, count]) => n + (count ?? 0), 0);
        console.log(`\npreview:local: ${JSON.stringify(preview.changeSummary)} (working tree against ${args.base})`);
        if (args.expectNoChanges && changes > 0) {
            console.log(`preview:local: ${changes} changes, none expected`);
            return 1;
        }
        return 0;
    } finally {
        await controllers?.stop();
        store?.stop();
        if (cluster) run.controlPlane.stop(cluster.state);
        if (!args.keep) fs.rmSync(root, { recursive: true, force: true });
        else console.log(`scratch kept: ${root}`);
    }
}

runAsScript(module, USAGE, main);
