/**
 * The policy pack over the offline plan: `npm run policy [-- --stack <name>] [-- --markdown]`.
 *
 * Plans each stack (default: every Pulumi.<stack>.yaml) under the mock runtime, as `npm run plan` does, and runs
 * every policy of policy/ over it the way `pulumi preview --policy-pack policy` would, without credentials or the
 * Pulumi CLI. Prints the violations per stack (`--markdown`: a Markdown report for a CI job summary).
 * Exit codes: 0 no violation, 1 violations (or a failure), 2 invalid configuration or arguments.
 */
import { runAsScript, UsageError } from "./cli";
import type { Violation } from "../policy/offline";
import { listStacks, loadStack } from "./stack";

interface Args {
    stacks: string[];
    markdown: boolean;
}

const USAGE = `Usage: npm run policy -- [--stack <name>]... [--markdown]

Plans each stack (default: every Pulumi.<stack>.yaml) under the mock runtime, as npm run plan does, and runs every
policy of the pack in policy/ over it the way \`pulumi preview --policy-pack policy\` would, without credentials or
the Pulumi CLI.

Options:
  -s, --stack <name>   Stack to check (repeatable; default: every stack)
  --markdown           Print a Markdown report (for a CI job summary)
  -h, --help           Show this help

Exit codes: 0 no violation, 1 violations (or a failure), 2 invalid configuration or arguments.`;

function parseArgs(argv: string[]): Args {
    const all = listStacks();
    const args: Args = { stacks: [], markdown: false };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--stack" || a === "-s") {
            const v = argv[++i];
            if (!v || v.startsWith("--")) throw new UsageError(`${a} needs a value`);
            args.stacks.push(v);
        } else if (a.startsWith("--stack=")) args.stacks.push(a.slice("--stack=".length));
        else if (a === "--markdown") args.markdown = true;
        else throw new UsageError(`unknown argument ${a}`);
    }
    for (const s of args.stacks)
        if (!all.includes(s)) throw new UsageError(`no stack "${s}"; stacks: ${all.join(", ")}`);
    if (args.stacks.length === 0) args.stacks = all;
    return args;
}

interface StackResult {
    stack: string;
    resources: number;
    violations: Violation[];
}

function render(results: StackResult[], markdown: boolean, policies: number): string {
    const out: string[] = [];
    if (markdown) {
        out.push(`### Policy pack (${policies} mandatory policies) over the offline plan`, "");
        out.push("| stack | resources | violations |", "|---|---|---|");
        for (const r of results) out.push(`| ${r.stack} | ${r.resources} | ${r.violations.length} |`);
        for (const r of results.filter((x) => x.violations.length > 0)) {
            out.push("", `#### ${r.stack}`, "", "| policy | violation |", "|---|---|");
            for (const v of r.violations) out.push(`| ${v.policy} | ${v.message.replace(/\|/g, "\\|")} |`);
        }
    } else {
        for (const r of results) {
            out.push(
                `Stack ${r.stack}: ${r.resources} resources, ${policies} policies, ${r.violations.length} violation${r.violations.length === 1 ? "" : "s"}.`,
            );
            for (const v of r.violations) out.push(`  [${v.policy}] ${v.message}`);
        }
    }
    return out.join("\n") + "\n";
}

async function main(argv: readonly string[]): Promise<number> {
    const args = parseArgs([...argv]);
    // Loaded once the arguments are good: the program and the pack load the whole SDK, which --help needs not.
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { ConfigError } = require("../infra/config") as typeof import("../infra/config");
    const { program } = require("../infra/program") as typeof import("../infra/program");
    const { checkPlan } = require("../policy/offline") as typeof import("../policy/offline");
    const { POLICIES } = require("../policy/policies") as typeof import("../policy/policies");
    const { runProgram } = require("./mock-runtime") as typeof import("./mock-runtime");
    /* eslint-enable @typescript-eslint/no-require-imports */
    const results: StackResult[] = [];
    for (const stack of args.stacks) {
        try {
            const plan = await runProgram(
                program as unknown as () => Promise<Record<string, unknown>>,
                loadStack(stack),
            );
            results.push({ stack, resources: plan.resources.length, violations: (await checkPlan(plan)).violations });
        } catch (err) {
            if (!(err instanceof ConfigError)) throw err;
            process.stderr.write(`stack ${stack}: ${err.message}\n`);
            return 2;
        }
    }
    process.stdout.write(render(results, args.markdown, POLICIES.length));
    return results.some((r) => r.violations.length > 0) ? 1 : 0;
}

runAsScript(module, USAGE, main, "policy check failed");
