/** The figures `npm run test:cluster` prints at the end: per stack, what was applied, run and checked, and the times. */

export interface StackFigures {
    objectsApplied: number;
    objectsSkipped: number;
    crds: number;
    nodes: number;
    stepsRun: number;
    checksPassed: number;
    checksFailed: number;
    startSeconds?: number;
    crdSeconds?: number;
    applySeconds?: number;
}

const stacks = new Map<string, StackFigures>();
let buildLines: string[] = [];
let buildSeconds = 0;

export function figures(stack: string): StackFigures {
    let f = stacks.get(stack);
    if (!f) {
        f = { objectsApplied: 0, objectsSkipped: 0, crds: 0, nodes: 0, stepsRun: 0, checksPassed: 0, checksFailed: 0 };
        stacks.set(stack, f);
    }
    return f;
}

export function recordBuild(lines: string[], seconds: number): void {
    buildLines = lines;
    buildSeconds = seconds;
}

const s = (n: number | undefined) => (n === undefined ? "-" : `${n.toFixed(1)} s`);

export function renderReport(): string {
    const out = [
        "",
        "Local control plane (tools/cluster):",
        ...buildLines.map((l) => `  ${l}`),
        `  build step took ${buildSeconds.toFixed(1)} s in this run`,
        "",
    ];
    out.push(
        "| stack | objects applied | not applied | CRDs | nodes | steps run | checks passed | checks failed | start | CRDs in | apply |",
    );
    out.push("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (const [stack, f] of stacks) {
        out.push(
            `| ${stack} | ${f.objectsApplied} | ${f.objectsSkipped} | ${f.crds} | ${f.nodes} | ${f.stepsRun} | ${f.checksPassed} | ${f.checksFailed} | ${s(f.startSeconds)} | ${s(f.crdSeconds)} | ${s(f.applySeconds)} |`,
        );
    }
    return out.join("\n");
}
