/**
 * The step runner's mount points under parallel Tasks: a Pipeline runs independent Tasks at once (train beside
 * build-image), each step in its own mount namespace with the workspace bound at /workspace/<name>. Removing a
 * directory that is a mount point elsewhere detaches that mount, so the first Task to finish must not remove the
 * mount points the other still uses. Needs root and unshare (as every step the runner runs).
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Kube } from "./kube";
import { runTask, type TaskObject, type TaskResult } from "./step-runner";

/** Only the TokenRequest the runner asks for each Task's service account. */
const tokenOnly = {
    core: { createNamespacedServiceAccountToken: async () => ({ status: { token: "t" } }) },
} as unknown as Kube;

function task(name: string, script: string): TaskObject {
    return {
        apiVersion: "tekton.dev/v1",
        kind: "Task",
        metadata: { name },
        spec: {
            steps: [{ name: "only", image: "unused", script }],
            volumes: [{ name: "ws", emptyDir: {} }],
            stepTemplate: { volumeMounts: [{ name: "ws", mountPath: "/workspace/study-spec-source" }] },
        },
    } as unknown as TaskObject;
}

/** A shell loop that waits (at most ten seconds) until `file` exists; the step fails if it never does. */
const waitFor = (file: string) =>
    `i=0; while [ ! -e ${file} ]; do i=$((i+1)); [ $i -gt 200 ] && exit 1; sleep 0.05; done`;

/**
 * Waits in this process until `file` exists (at most ten seconds). The Task that writes it may end first (its step
 * could not start: no root, no unshare); then what it printed is the failure, not a marker that never came.
 */
async function fileAppears(file: string, writer: Promise<TaskResult>): Promise<void> {
    let ended: TaskResult | undefined;
    writer.then(
        (r) => (ended = r),
        () => undefined,
    );
    for (let i = 0; i < 200; i++) {
        if (fs.existsSync(file)) return;
        if (ended) assert.fail(`the Task ended (exit ${ended.exitCode}) before ${file} appeared:\n${ended.stderr}`);
        await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${file} never appeared`);
}

describe("step runner: parallel Tasks sharing a workspace", function () {
    this.timeout(60_000);

    it("keeps /workspace/<name> mounted for a Task still running when the Task beside it ends", async () => {
        assert.equal(fs.existsSync("/workspace/study-spec-source"), false, "the mount point is the runner's to create");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "step-runner-spec-"));
        const ca = path.join(dir, "ca.crt");
        fs.writeFileSync(ca, "");
        const common = {
            params: {},
            namespace: "pipelines",
            serviceAccount: "default",
            apiServerIp: "127.0.0.1",
            caFile: ca,
            pythonBin: path.dirname(process.execPath),
            volumeDirs: { ws: dir },
        };
        // Markers in the shared workspace order the two Tasks without sleeping: the first Task creates the mount
        // points and ends only once the second runs; the second reads its workspace again only after the first ended
        // (a detached mount would hide the marker from it, and it would fail).
        const ws = "/workspace/study-spec-source";
        const first = runTask(tokenOnly, {
            ...common,
            task: task("first", `#!/bin/sh\nset -eu\ntouch ${ws}/first-started\n${waitFor(`${ws}/slow-started`)}\n`),
        });
        await fileAppears(path.join(dir, "first-started"), first);
        const slow = runTask(tokenOnly, {
            ...common,
            task: task(
                "slow",
                `#!/bin/sh\nset -eu\necho written > ${ws}/f\ntouch ${ws}/slow-started\n${waitFor(`${ws}/first-ended`)}\ncat ${ws}/f\n`,
            ),
        });
        const quick = await first;
        assert.equal(quick.exitCode, 0, quick.stderr);
        fs.writeFileSync(path.join(dir, "first-ended"), "");
        const r = await slow;
        assert.equal(r.exitCode, 0, r.stderr);
        assert.match(r.stdout, /written/);
        assert.equal(fs.existsSync("/workspace/study-spec-source"), false, "removed once no Task runs");
        fs.rmSync(dir, { recursive: true, force: true });
    });
});
