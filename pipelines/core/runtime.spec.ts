/**
 * The pin files the step runtime is built from (pipelines/core/runtime.ts), read as pip reads them: package names
 * compared as pip compares them, exact pins only, every bad line named at once.
 */
import * as assert from "node:assert/strict";
import { canonicalName, parsePins } from "./runtime";

describe("pins as pip reads them", () => {
    it("names a package as pip compares names", () => {
        assert.equal(canonicalName("PyJWT"), "pyjwt");
        assert.equal(canonicalName("typing_extensions"), "typing-extensions");
        assert.equal(canonicalName("zope.interface"), "zope-interface");
        assert.equal(canonicalName("a__b-.c"), "a-b-c");
    });

    it("reads exact pins with extras and comments, and refuses anything else, naming every line", () => {
        const ok = parsePins("# header\n\nmoto[server]==5.2.5  # with extras\nPyJWT==2.15.1\n", "ok.txt");
        assert.deepEqual(
            [...ok],
            [
                ["moto", { name: "moto", version: "5.2.5" }],
                ["pyjwt", { name: "PyJWT", version: "2.15.1" }],
            ],
        );
        assert.throws(
            () => parsePins("boto3>=1.40\nnumpy==2.3.4\nnumpy\npyjwt==2\nPyJWT==2.15.1\n", "bad.txt"),
            (err: Error) => {
                assert.equal(
                    err.message,
                    [
                        'bad.txt:1: "boto3>=1.40" is not an exact pin (name==version)',
                        'bad.txt:3: "numpy" is not an exact pin (name==version)',
                        "bad.txt:5: PyJWT is pinned twice",
                    ].join("\n"),
                );
                return true;
            },
        );
    });
    it("reads each pin's hashes over continued lines, and refuses a malformed hash or another option, naming the line", () => {
        const [a, b] = ["a".repeat(64), "0123456789abcdef".repeat(4)];
        const text = [
            "# header",
            "six==1.17.0 \\",
            `    --hash=sha256:${b} \\`,
            `    --hash=sha256:${a}`,
            "idna==3.20",
            `numpy==2.3.4 --hash=sha256:${a}  # one line`,
            "",
        ].join("\n");
        assert.deepEqual(
            [...parsePins(text, "lock.txt")],
            [
                ["six", { name: "six", version: "1.17.0", hashes: [b, a] }], // sorted
                ["idna", { name: "idna", version: "3.20" }],
                ["numpy", { name: "numpy", version: "2.3.4", hashes: [a] }],
            ],
        );
        assert.throws(
            () =>
                parsePins(
                    [
                        "six==1.17.0 \\",
                        "    --hash=md5:abc",
                        `idna==3.20 --index-url=https://x --hash=sha256:${a}`,
                    ].join("\n"),
                    "bad.txt",
                ),
            (err: Error) => {
                assert.equal(
                    err.message,
                    [
                        'bad.txt:1: "--hash=md5:abc" is not a hash (--hash=sha256:<64 hex digits>)',
                        'bad.txt:3: "--index-url=https://x" is not a hash (--hash=sha256:<64 hex digits>)',
                    ].join("\n"),
                );
                return true;
            },
        );
    });
});
