/**
 * The GitHub Actions workflows do what docs/ci.md says: tests, offline plan and policy pack, previews with the
 * pack and a PR comment, OIDC credentials only, deployment of dev then prod behind an approval environment, every
 * action pinned; and docs/ci.md documents every variable and secret they read.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { PROJECT_ROOT } from "../tools/stack";
import type { Json } from "./json";

const DIR = path.join(PROJECT_ROOT, ".github/workflows");
/** docs/ci.md: the workflows, their variables and environments. */
const ciDoc = fs.readFileSync(path.join(PROJECT_ROOT, "docs", "ci.md"), "utf8");

interface Step {
    name?: string;
    uses?: string;
    run?: string;
    with?: Record<string, unknown>;
    env?: Record<string, unknown>;
}
interface Job {
    container?: string | { image: string; options?: string };
    needs?: string | string[];
    if?: string;
    environment?: string | { name: string };
    permissions?: Record<string, string>;
    strategy?: { matrix?: Record<string, unknown> };
    steps: Step[];
}
interface Workflow {
    on: Record<string, Json>;
    permissions?: Record<string, string>;
    jobs: Record<string, Job>;
}

const text = (file: string) => fs.readFileSync(path.join(DIR, file), "utf8");
const load = (file: string) => parse(text(file)) as Workflow;
const runs = (job: Job) => job.steps.map((s) => s.run ?? "").join("\n");
const uses = (job: Job, action: string) => job.steps.filter((s) => s.uses?.split("@")[0] === action);
const needs = (job: Job) => (Array.isArray(job.needs) ? job.needs : job.needs ? [job.needs] : []);
const environment = (job: Job) => (typeof job.environment === "string" ? job.environment : job.environment?.name);

/**
 * The job that runs npm test installs as the README's first command does, on the system tools/install.sh is written
 * for (a Debian 12 container, where the job is root and apt-get needs no sudo), with git installed before the
 * checkout so that it is a repository.
 */
function assertTestJob(wf: Workflow): void {
    const job = Object.values(wf.jobs).find((j) => /^npm test$/m.test(runs(j)));
    assert.ok(job, "a job runs npm test");
    assertInstalledOnDebian(job);
}

/** A job installs as the README's first command does, in a Debian 12 container, git there before the checkout. */
function assertInstalledOnDebian(job: Job): void {
    assert.match(runs(job), /^bash tools\/install\.sh$/m);
    const image = typeof job.container === "string" ? job.container : job.container?.image;
    assert.equal(image, "debian:12");
    const gitStep = job.steps.findIndex((s) => /apt-get install .*\bgit\b/.test(s.run ?? ""));
    const checkout = job.steps.findIndex((s) => s.uses?.startsWith("actions/checkout@"));
    assert.ok(gitStep >= 0 && gitStep < checkout, "git is installed before the checkout");
}

/** The `npm run` command lines of a script, in order. */
const npmRunLines = (script: string) => script.split("\n").filter((l) => l.startsWith("npm run "));

/** The job that runs `command` with the Pulumi action on `stack` (a literal or the matrix). */
function pulumiJobs(wf: Workflow, command: string): [string, Job, Step][] {
    return Object.entries(wf.jobs).flatMap(([id, job]) =>
        uses(job, "pulumi/actions")
            .filter((s) => s.with?.command === command)
            .map((s): [string, Job, Step] => [id, job, s]),
    );
}

function assertOidc(id: string, job: Job) {
    assert.equal(job.permissions?.["id-token"], "write", `${id} may request an OIDC token`);
    const [aws] = uses(job, "aws-actions/configure-aws-credentials");
    assert.ok(aws, `${id} configures AWS credentials`);
    assert.match(String(aws.with?.["role-to-assume"]), /^\$\{\{ vars\.[A-Z_]+ \}\}$/, `${id} assumes a role`);
    for (const key of ["aws-access-key-id", "aws-secret-access-key", "aws-session-token"])
        assert.ok(!(key in (aws.with ?? {})), `${id}: no ${key}`);
    assert.equal(uses(job, "pulumi/auth-actions").length, 1, `${id} gets its Pulumi token through OIDC`);
}

describe("workflows: pull requests", () => {
    const wf = load("pull-request.yml");

    it("runs on pull requests with read-only default permissions", () => {
        assert.ok("pull_request" in wf.on);
        assert.deepEqual(wf.permissions, { contents: "read" });
    });

    it("installs as the README's first command does, on Debian 12, and runs npm test", () => {
        assertTestJob(wf);
    });

    it("runs .ci/run's npm run lines (the real tiers), in order, after installing, in a privileged Debian 12", () => {
        const job = Object.values(wf.jobs).find((j) => /^npm run test:cluster$/m.test(runs(j)));
        assert.ok(job, "a job runs the cluster tier");
        assertInstalledOnDebian(job);
        // .ci/run's are the real tiers and the workflows' lint.
        const scripts = npmRunLines(fs.readFileSync(path.join(PROJECT_ROOT, ".ci", "run"), "utf8"));
        assert.ok(scripts.length >= 4, `.ci/run: ${scripts.join("; ")}`);
        assert.deepEqual(npmRunLines(runs(job)), scripts);
        const install = job.steps.findIndex((s) => s.run === "bash tools/install.sh");
        assert.ok(job.steps.findIndex((s) => s.run === scripts[0]) > install, "the tiers run after the install");
        // The step runner's mount namespaces (`unshare --mount`): Docker's default profile refuses them.
        assert.match(String(typeof job.container === "object" && job.container.options), /--privileged/);
        // The tiers build upstream Go programs: the Go the engine's module asks for.
        const [go] = uses(job, "actions/setup-go");
        const goMod = String(go?.with?.["go-version-file"]).replace(/^mlops-testbed\//, "");
        assert.ok(fs.existsSync(path.join(PROJECT_ROOT, goMod)), `setup-go reads ${goMod}`);
    });

    it("plans dev and prod offline, runs the policy pack, and publishes both as job summary and artifact", () => {
        const job = Object.values(wf.jobs).find((j) => /npm run (--silent )?plan -- --stack dev/.test(runs(j)));
        assert.ok(job, "a job runs the offline plan");
        const r = runs(job);
        assert.match(r, /^npm ci\b/m);
        assert.match(r, /npm run (--silent )?plan -- --stack prod/);
        assert.match(r, /npm run (--silent )?policy -- --stack dev --stack prod/);
        assert.match(r, /GITHUB_STEP_SUMMARY/);
        const [upload] = uses(job, "actions/upload-artifact");
        assert.match(String(upload?.with?.path), /out\/$/);
    });

    it("previews with a Pulumi token scoped to the preview team, never an organization token", () => {
        const [[id, job]] = pulumiJobs(wf, "preview");
        const [auth] = uses(job, "pulumi/auth-actions");
        assert.equal(auth.with?.["requested-token-type"], "urn:pulumi:token-type:access_token:team", id);
        assert.equal(auth.with?.scope, "team:${{ vars.PULUMI_PREVIEW_TEAM }}", id);
        // docs/ci.md says which OIDC policy narrows that token: pull_request events of this repository only.
        assert.match(ciDoc, /`PULUMI_PREVIEW_TEAM`/);
        assert.match(ciDoc, /event_name.*pull_request/s);
    });

    it("previews dev and prod with the policy pack and comments on the pull request", () => {
        const previews = pulumiJobs(wf, "preview");
        assert.equal(previews.length, 1);
        const [id, job, step] = previews[0];
        assert.deepEqual(job.strategy?.matrix?.stack, ["dev", "prod"]);
        assert.match(String(step.with?.["stack-name"]), /\$\{\{ matrix\.stack \}\}$/);
        assert.equal(step.with?.policyPacks, "policy");
        assert.equal(step.with?.["comment-on-pr"], true);
        assert.equal(job.permissions?.["pull-requests"], "write");
        assert.match(runs(job), /^npm ci\b/m);
        assert.match(
            String(job.if),
            /head\.repo\.full_name == github\.repository/,
            "no preview for forks, which get no credentials",
        );
        assertOidc(id, job);
    });

    it("points the pack at a real policy pack directory, whose dependencies are the project's own", () => {
        for (const f of ["PulumiPolicy.yaml", "package.json", "tsconfig.json", "index.ts"])
            assert.ok(fs.existsSync(path.join(PROJECT_ROOT, "policy", f)), f);
        const root = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8"));
        const pack = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "policy", "package.json"), "utf8"));
        const all = { ...root.dependencies, ...root.devDependencies };
        for (const [name, version] of Object.entries(pack.dependencies))
            assert.equal(version, all[name], `policy/package.json ${name}`);
        assert.ok(pack.version, "a policy pack needs a version");
    });
});

describe("workflows: deployment", () => {
    const wf = load("deploy.yml");

    it("runs on pushes to main, one deployment at a time", () => {
        assert.deepEqual(wf.on.push?.branches, ["main"]);
        assert.equal((wf as Json).concurrency?.["cancel-in-progress"], false);
    });

    it("tests as pull requests do, on Debian 12", () => {
        assertTestJob(wf);
    });

    it("runs pulumi up on dev after the tests, then on prod behind the production environment", () => {
        const ups = pulumiJobs(wf, "up");
        const dev = ups.find(([, , s]) => String(s.with?.["stack-name"]).endsWith("/dev"));
        const prod = ups.find(([, , s]) => String(s.with?.["stack-name"]).endsWith("/prod"));
        assert.ok(dev && prod, "pulumi up of dev and of prod");
        assert.ok(
            needs(dev[1]).some((n) => /^npm test$/m.test(runs(wf.jobs[n]))),
            "dev deploys after the tests",
        );
        assert.ok(needs(prod[1]).includes(dev[0]), "prod deploys after dev");
        assert.equal(environment(prod[1]), "production", "prod waits for the production environment's reviewers");
        for (const [id, job, step] of [dev, prod]) {
            assert.equal(step.with?.policyPacks, "policy", id);
            assertOidc(id, job);
        }
    });
});

describe("workflows: supply chain and documentation", () => {
    const files = fs.readdirSync(DIR).filter((f) => f.endsWith(".yml"));

    it("has the two workflows", () => {
        assert.deepEqual(files.sort(), ["deploy.yml", "pull-request.yml"]);
    });

    it("pins every action to a full commit, with its version in a comment", () => {
        for (const f of files) {
            const lines = text(f)
                .split("\n")
                .filter((l) => /^\s*(- )?uses:/.test(l));
            assert.ok(lines.length > 0, f);
            for (const l of lines)
                assert.match(l, /uses: [\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/, `${f}: ${l.trim()}`);
        }
    });

    it("reads no secret but the automatic GITHUB_TOKEN", () => {
        for (const f of files) {
            const secrets = [...text(f).matchAll(/\bsecrets\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]);
            assert.deepEqual(
                [...new Set(secrets)].filter((s) => s !== "GITHUB_TOKEN"),
                [],
                f,
            );
        }
    });

    it("documents every variable and environment in docs/ci.md", () => {
        const section = ciDoc;
        const documented = new Set([...section.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]));
        const used = new Set(
            files.flatMap((f) => [...text(f).matchAll(/\bvars\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1])),
        );
        assert.deepEqual([...documented].sort(), [...used].sort());
        for (const f of files) {
            for (const job of Object.values(load(f).jobs)) {
                const env = environment(job);
                if (env) assert.ok(section.includes(`\`${env}\``), `environment ${env} is documented`);
            }
        }
    });
});
