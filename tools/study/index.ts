/**
 * `npm run study:local`: a small but complete study on this machine, no cloud. See docs/study.md ("A real study,
 * locally") for what is real and what plays a role; the study itself is tools/study/local-study.ts.
 */
import { parseOptions, runAsScript } from "../cli";

const USAGE = `Usage: npm run study:local -- [--short] [--keep] [--report-json <file>]

Runs a small but complete study on this machine (no cloud): real moto S3, Prometheus, Pushgateway, Alertmanager,
the local control plane and model servers on loopback; every pipeline as rendered; the three triggers (git push,
dataset change, drift alert); the manual runbook scripted; then prints npm run report for the study's window.
  --short               the CI variant: deploy-new-version and rollback-bad-version in every mode and one trigger of
                        each kind (no side-by-side, recover-failed-deployment, simplified retrain), and of the
                        scalability runs (deliver-several-models) only 2 models at once, not 1 and 4
  --keep                keep the work directory (logs, plan, store) instead of removing it
  --report-json <file>  also write the report as JSON (npm run report --format json) to <file>
  -h, --help            show this help

Exit codes: 0 the study ran and its report printed, 1 a step of the study failed (work directory kept), 2 bad arguments.`;

async function main(argv: readonly string[]): Promise<number> {
    const { values } = parseOptions(argv, {
        short: { type: "boolean" },
        keep: { type: "boolean" },
        "report-json": { type: "string" },
    });
    // Loaded once the arguments are read: the study loads the control plane's client, the config schema and the
    // Pulumi SDK (2 s of CPU), which --help and a refused flag never need.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { runStudy } = require("./local-study") as typeof import("./local-study");
    return runStudy({ short: values.short ?? false, keep: values.keep ?? false, reportJson: values["report-json"] });
}

runAsScript(module, USAGE, main);
