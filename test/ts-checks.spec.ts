/**
 * tools/ts-checks.ts: ESLint's typed rules on a program built once (the type check's) still catch what they catch
 * when ESLint builds its own, and the key of a clean run covers every file the checks read.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import ts from "typescript";
import { checkInputs, lint } from "../tools/ts-checks";
import { PROJECT_ROOT } from "../tools/stack";

describe("TypeScript checks on one program", function () {
    this.timeout(120_000);
    let dir: string;
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-ts-checks-"));
        fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("ESLint's typed and untyped rules report on the program they are given", async () => {
        const file = path.join(dir, "planted.ts");
        fs.writeFileSync(
            file,
            [
                'import * as pulumi from "@pulumi/pulumi";',
                "export function url(host: pulumi.Output<string>): string {",
                "    const unused = 1;",
                "    return `http://${host}/`;",
                "}",
                "",
            ].join("\n"),
        );
        const program = ts.createProgram([file], {
            // tsconfig.json's target and lib: the default lib adds the DOM's declarations (1.9 MB, about a second of
            // CPU to parse), which nothing here reads.
            target: ts.ScriptTarget.ES2022,
            lib: ["lib.es2022.d.ts"],
            strict: true,
            module: ts.ModuleKind.Node16,
            moduleResolution: ts.ModuleResolutionKind.Node16,
            types: [],
            skipLibCheck: true,
        });
        const { ruleIds } = await lint(program, dir, ["planted.ts"]);
        assert.deepEqual(ruleIds.sort(), [
            "@pulumi/no-output-in-template-literal",
            "@typescript-eslint/no-unused-vars",
        ]);
    });

    it("keys a clean run on every TypeScript file tsconfig.json checks and the configs", () => {
        const inputs = new Set(checkInputs());
        const config = ts.getParsedCommandLineOfConfigFile(
            path.join(PROJECT_ROOT, "tsconfig.json"),
            {},
            {
                ...ts.sys,
                onUnRecoverableConfigFileDiagnostic: () => undefined,
            },
        )!;
        const missing = config.fileNames
            .map((f) => path.relative(PROJECT_ROOT, f).split(path.sep).join("/"))
            .filter((f) => !inputs.has(f));
        assert.ok(config.fileNames.length > 100, "tsconfig.json lists the project's files");
        assert.deepEqual(missing, []);
        for (const f of ["eslint.config.mjs", "tsconfig.json", "package-lock.json", "policy/tsconfig.json"])
            assert.ok(inputs.has(f), f);
    });
});
