/**
 * The step runtime's lock (tools/python-lock.ts): the committed lock holds every pin of the files it locks, and the
 * helpers that write and check it read pins, pip's report and differences as pip means them. That the lock is the
 * closure pip resolves on every platform needs pip's index: the study tier checks it (test/study/python-lock.spec.ts).
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as fc from "fast-check";
import {
    LOCKED_REQUIREMENTS,
    PACKAGE_SET_PIP_OPTIONS,
    RUNTIME_PACKAGE_SETS,
    RUNTIME_REQUIREMENTS,
    canonicalName,
    parsePins,
    type Pins,
} from "../pipelines/core/runtime";
import {
    keptClosureText,
    lockMissesPins,
    lockText,
    mergeHashes,
    missingHashes,
    pinDifferences,
    pinLines,
    reportPins,
} from "./python-lock";
import { PROJECT_ROOT } from "./stack";

const read = (file: string) => fs.readFileSync(path.join(PROJECT_ROOT, file), "utf8");
const pins = (entries: [string, string][]): Pins =>
    new Map(entries.map(([name, version]) => [canonicalName(name), { name, version }]));

describe("the step runtime's lock", () => {
    const lockFile = RUNTIME_REQUIREMENTS["requirements-lock.txt"];

    it("holds every pin of the library and the workload at its version, and only exact pins", () => {
        const lock = parsePins(read(lockFile), lockFile);
        const locked = LOCKED_REQUIREMENTS.map((file) => ({ file, pins: parsePins(read(file), file) }));
        assert.deepEqual(lockMissesPins(lock, locked), []);
        // More than the files name: the closure (boto3 alone needs botocore, s3transfer, jmespath, ...).
        const named = locked.reduce((n, l) => n + l.pins.size, 0);
        assert.ok(lock.size > named, `${lock.size} pins in the lock, ${named} in the files`);
        for (const dependency of ["botocore", "s3transfer", "cryptography", "threadpoolctl"])
            assert.ok(lock.has(dependency), dependency);
    });

    for (const file of Object.values(RUNTIME_REQUIREMENTS))
        it(`${file} names the sha256 of a file of every pin, each 64 hex digits`, () => {
            const pins = parsePins(read(file), file);
            assert.ok(pins.size > 20, `${pins.size} pins`);
            const without = [...pins.values()].filter((p) => (p.hashes ?? []).length === 0).map((p) => p.name);
            assert.deepEqual(without, [], "pins without a hash: pip refuses the whole file under --require-hashes");
            for (const p of pins.values()) for (const h of p.hashes ?? []) assert.match(h, /^[0-9a-f]{64}$/, p.name);
        });

    it("is what the runtime build installs, without the resolver, each file checked against its hashes", () => {
        assert.deepEqual(RUNTIME_PACKAGE_SETS["step-runtime"].requirements, ["requirements-lock.txt"]);
        for (const option of ["--no-deps", "--require-hashes"] as const)
            assert.ok(PACKAGE_SET_PIP_OPTIONS.includes(option));
        const env = read("tools/python-env.sh");
        assert.match(env, /^lock="\$root\/pipelines\/lib\/requirements-lock\.txt"$/m);
        // Both package sets as the build installs them: the script's pip options are the build's own.
        const installs = [...env.matchAll(/pip install ((?:\\\n|[^\n])*)/g)].map((m) => m[1].replace(/\\\n\s*/g, ""));
        const sets = installs.filter((i) => i.includes('-r "$lock"') || i.includes('-r "$kube_requirements"'));
        assert.equal(sets.length, 2, installs.join("\n"));
        for (const i of sets) assert.ok(i.includes(PACKAGE_SET_PIP_OPTIONS.join(" ")), i);
        assert.match(env, /-c "\$venv\/lock-constraints\.txt"/, "then takes its pins as constraints");
    });

    it("gives the tests' environment the lock's pins without hashes as constraints (python-env.sh's own sed)", () => {
        // The script's line, run on the committed lock: what pip reads as constraints must be every pin, nothing else.
        const line = /^\s*(sed .*) "\$lock" > "\$venv\/lock-constraints\.txt"$/m.exec(read("tools/python-env.sh"));
        assert.ok(line, "no sed line writing lock-constraints.txt in tools/python-env.sh");
        const out = execFileSync("bash", ["-c", `${line[1]} "$0"`, path.join(PROJECT_ROOT, lockFile)], {
            encoding: "utf8",
        });
        const requirements = out.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#"));
        assert.deepEqual(requirements, pinLines(parsePins(read(lockFile), lockFile), "without"));
        assert.ok(!out.includes("--hash") && !out.includes("\\"), out);
    });

    it("reads a lock that misses a pin, or has it at another version", () => {
        const lock = pins([
            ["boto3", "1.40.55"],
            ["numpy", "2.3.3"],
        ]);
        const problems = lockMissesPins(lock, [
            {
                file: "lib.txt",
                pins: pins([
                    ["boto3", "1.40.55"],
                    ["azure-identity", "1.27.0"],
                ]),
            },
            { file: "workload.txt", pins: pins([["numpy", "2.3.4"]]) },
        ]);
        assert.deepEqual(problems, [
            "the lock lacks azure-identity==1.27.0 of lib.txt",
            "the lock has numpy==2.3.3, workload.txt pins 2.3.4",
        ]);
    });
});

describe("the lock tool's pins: pip's report, differences, the lock's text", () => {
    it("reads what pip's installation report would install, and only a report of format 1", () => {
        // pip's --report (format "1", https://pip.pypa.io/en/stable/reference/installation-report/): the fields read.
        const [h1, h2] = ["a".repeat(64), "0123456789abcdef".repeat(4)];
        const report = {
            version: "1",
            pip_version: "23.2.1",
            install: [
                {
                    requested: true,
                    metadata: { name: "boto3", version: "1.40.55" },
                    download_info: { url: "https://x/boto3.whl", archive_info: { hashes: { sha256: h1 } } },
                },
                {
                    requested: false,
                    metadata: { name: "typing_extensions", version: "4.16.0" },
                    // pip before 22.3 wrote only "hash".
                    download_info: { url: "https://x/t.whl", archive_info: { hash: `sha256=${h2}` } },
                },
            ],
        };
        assert.deepEqual(
            [...reportPins(report)],
            [
                ["boto3", { name: "boto3", version: "1.40.55", hashes: [h1] }],
                ["typing-extensions", { name: "typing_extensions", version: "4.16.0", hashes: [h2] }],
            ],
        );
        assert.throws(() => reportPins({ ...report, version: "0" }), /not a pip installation report of version 1/);
        const unhashed = { version: "1", install: [{ metadata: { name: "six", version: "1.17.0" } }] };
        assert.throws(() => reportPins(unhashed), /^Error: six==1\.17\.0: pip names no sha256 for its file$/);
    });

    it("merges the platforms' resolutions: every chosen file's hash, once each, sorted", () => {
        const at = (hashes: string[]): Pins => new Map([["numpy", { name: "numpy", version: "2.3.4", hashes }]]);
        const [x, y, z] = ["c", "a", "b"].map((c) => c.repeat(64));
        assert.deepEqual(mergeHashes([at([x]), at([y]), at([x, z])]).get("numpy"), {
            name: "numpy",
            version: "2.3.4",
            hashes: [y, z, x],
        });
    });

    it("finds the files pip chooses whose hash the lock lacks, naming package, platform and hash", () => {
        const [a, b] = ["a".repeat(64), "b".repeat(64)];
        const lock: Pins = new Map([
            ["six", { name: "six", version: "1.17.0", hashes: [a] }],
            ["idna", { name: "idna", version: "3.20" }],
        ]);
        const resolved: Pins = new Map([
            ["six", { name: "six", version: "1.17.0", hashes: [a] }],
            ["idna", { name: "idna", version: "3.20", hashes: [b] }],
        ]);
        assert.deepEqual(missingHashes(lock, resolved, "linux/arm64"), [
            `the lock lacks the sha256 of the file pip chooses for idna==3.20 on linux/arm64: ${b}`,
        ]);
        assert.deepEqual(missingHashes(resolved, resolved, "linux/arm64"), []);
    });

    it("writes a hand-kept closure's hashes under its own comment lines", () => {
        const a = "a".repeat(64);
        const text = keptClosureText(
            "# Kept by hand.\n# Second line.\nsix==1.17.0\nidna==3.20  # old\n",
            new Map([
                ["six", { name: "six", version: "1.17.0", hashes: [a] }],
                ["idna", { name: "idna", version: "3.20", hashes: [a] }],
            ]),
        );
        assert.equal(
            text,
            `# Kept by hand.\n# Second line.\nidna==3.20 \\\n    --hash=sha256:${a}\nsix==1.17.0 \\\n    --hash=sha256:${a}\n`,
        );
    });

    it("says how two sets of pins differ: missing, more, another version", () => {
        const a = pins([
            ["six", "1.17.0"],
            ["numpy", "2.3.4"],
            ["idna", "3.20"],
        ]);
        const b = pins([
            ["numpy", "2.3.3"],
            ["IDNA", "3.20"],
            ["colorama", "0.4.6"],
        ]);
        assert.deepEqual(pinDifferences(a, b, { a: "A", b: "B" }), [
            "B lacks six==1.17.0 (A has it)",
            "B has numpy==2.3.3, A 2.3.4",
            "B has colorama==0.4.6, A does not",
        ]);
        assert.deepEqual(pinDifferences(a, a, { a: "A", b: "A" }), []);
    });

    it("writes a lock that reads back as the same pins, sorted by name", () => {
        const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,8}([-_.][A-Za-z0-9]{1,4})?$/);
        const version = fc.stringMatching(/^[0-9]{1,3}(\.[0-9]{1,3}){0,3}(\.post[0-9])?$/);
        const hashes = fc.uniqueArray(fc.stringMatching(/^[0-9a-f]{64}$/), { minLength: 1, maxLength: 3 });
        fc.assert(
            fc.property(
                fc.uniqueArray(fc.tuple(name, version, hashes), { selector: ([n]) => canonicalName(n) }),
                (entries) => {
                    const written: Pins = new Map(
                        entries.map(([n, v, h]) => [canonicalName(n), { name: n, version: v, hashes: [...h].sort() }]),
                    );
                    const text = lockText(written, ["linux/amd64 (CPython 3.12)"]);
                    const back = parsePins(text, "lock.txt");
                    assert.deepEqual(new Map([...back].sort()), new Map([...written].sort()));
                    const keys = [...back.keys()];
                    assert.deepEqual(
                        keys,
                        [...keys].sort((x, y) => x.localeCompare(y)),
                    );
                },
            ),
        );
    });
});
