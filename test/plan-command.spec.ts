/**
 * `npm run plan` on a bad stack file, as a process of its own: exit code 2, the validation messages and nothing
 * else (no stack trace), nothing written. Apart from test/config.spec.ts, whose specs are pure and fast enough for
 * `npm run mutation`.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_ROOT } from "../tools/stack";

describe("config: the plan command on bad config", () => {
    it("exits with code 2 and prints only the validation messages, no stack trace", function () {
        this.timeout(120000);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-bad-stack-"));
        fs.copyFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
        fs.writeFileSync(
            path.join(dir, "Pulumi.bad.yaml"),
            "config:\n  mlops-testbed:cloud: aws\n  mlops-testbed:aws:\n    region: eu-west-1\n  mlops-testbed:gpuNodePools:\n    - name: t4\n      instanceTypes: [m5.large]\n      capacityType: spot\n      minSize: 3\n      maxSize: 1\n",
        );
        const run = spawnSync(
            process.execPath,
            [
                "--import",
                "tsx",
                path.join(PROJECT_ROOT, "tools/plan.ts"),
                "--stack",
                "bad",
                "--project-dir",
                dir,
                "--out",
                path.join(dir, "out"),
            ],
            { encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" } },
        );
        const { status, stderr, stdout } = run;
        assert.equal(status, 2, `stdout: ${stdout}\nstderr: ${stderr}`);
        assert.match(stderr, /mlops-testbed:gpuNodePools\[0\]\.maxSize: maxSize \(1\) must be >= minSize \(3\)/);
        assert.match(stderr, /mlops-testbed:gpuNodePools\[0\]\.instanceTypes\[0\]: is not a GPU instance type/);
        assert.doesNotMatch(stderr, /\bat .*\.ts:\d+/, "no stack trace");
        assert.equal(fs.existsSync(path.join(dir, "out", "bad")), false, "nothing written for a refused config");
    });
});
