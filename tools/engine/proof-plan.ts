/**
 * The offline plan of the proof program (tools/engine/proof.ts) for a stack file:
 * `tsx tools/engine/proof-plan.ts --project-dir <dir> --stack <name> --out <file.json>`.
 *
 * npm run test:engine runs it in a child process (the mock runtime is process-wide, and the engine's run shares the
 * parent's Pulumi runtime) to know, before each engine step, exactly which resources the step must touch.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { runProgram } from "../mock-runtime";
import { loadStack } from "../stack";
import { proofProgram } from "./proof";

async function main(argv: string[]): Promise<void> {
    const arg = (name: string) => {
        const i = argv.indexOf(name);
        const v = i >= 0 ? argv[i + 1] : undefined;
        if (!v)
            throw new Error(
                `${name} is required; usage: tsx tools/engine/proof-plan.ts --project-dir <dir> --stack <name> --out <file.json>`,
            );
        return v;
    };
    const stack = loadStack(arg("--stack"), {}, path.resolve(arg("--project-dir")));
    const plan = await runProgram(proofProgram({ kind: "render", directory: "/dev/null" }), stack);
    fs.writeFileSync(path.resolve(arg("--out")), JSON.stringify(plan, null, 1));
}

main(process.argv.slice(2)).catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
});
