/**
 * The step runtime's lock against pip's package index, in the tier that fetches the runtime's packages from it:
 * `npm run lock:python -- --check` (main() of tools/python-lock.ts, as the docs run it) asks pip's resolver whether the
 * committed lock is the closure of the library's and the workload's pins on every platform the runtime image is built
 * for and for the tests' Python, and whether the lock and the kube client's closure name the sha256 of every file pip chooses there. It fails when
 * a pin is added to either file without running `npm run lock:python`, or when PyPI serves another file for a pin.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");

describe("npm run lock:python -- --check", function () {
    this.timeout(300_000);

    it("finds the committed lock to be the closure of its pins on every platform", () => {
        const r = spawnSync("npm", ["run", "--silent", "lock:python", "--", "--check"], {
            cwd: ROOT,
            encoding: "utf8",
        });
        assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
        assert.match(
            r.stdout,
            /^pipelines\/lib\/requirements-lock\.txt: \d+ pins, a closure on 3 platforms, every chosen file's hash in it$/m,
        );
        assert.match(r.stdout, /^pipelines\/lib\/requirements-kube\.txt: \d+ pins, every chosen file's hash in it$/m);
    });
});
