import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { alertmanagerConfig } from "../../monitoring/stack";
import { EVENT_LISTENER, EVENT_LISTENER_URL } from "../../contract/names";
import { checkCel, evalCel } from "../../tools/study/cel";
import { EVENT_GRID_CONSUMER_SCRIPT } from "../../components/azure/dataset-events";
import { FILER_CONSUMER_SCRIPT } from "../../components/existing/dataset-events";
import { fire, githubSignature, resolveBinding, type Request, type SecretObject } from "../../tools/study/triggers";
import * as fc from "fast-check";
import { createHmac } from "node:crypto";
import { lint, runProblems, templateProblems } from "../../test/tekton-wiring";
import { alertThresholdsSchema } from "../../contract/config/monitoring";
import { promotionSchema } from "../../contract/config/pipelines";
import { allTasks, renderPipelines } from "../index";
import { runtimeImage } from "../core/runtime";
import {
    GIT_WEBHOOK_SECRET,
    SOURCE_HEADER,
    TRAIN_AND_DEPLOY,
    TRIGGER_KINDS,
    celFilter,
    eventListener,
    trainAndDeployTemplate,
    triggerBindings,
} from "./triggers";
import type { Json } from "../../test/json";
import { runPython } from "../../test/python";

/** S3's EventBridge event is the contract's sample (every platform's consumer is tested against it); the rest are here. */
const SAMPLE_DIRS: Record<string, string> = {
    "eventbridge-object-created.json": path.join(__dirname, "..", "..", "contract", "samples"),
};
const sample = (name: string) =>
    readFileSync(path.join(SAMPLE_DIRS[name] ?? path.join(__dirname, "samples"), name), "utf8");
const SECRET = "s3cr3t-hmac-key";
/** The webhook Secret as the program applies it, in the listener's namespace. */
const secrets: SecretObject[] = [
    {
        metadata: { name: GIT_WEBHOOK_SECRET.name, namespace: EVENT_LISTENER.namespace },
        stringData: { [GIT_WEBHOOK_SECRET.key]: SECRET },
    },
];
const MODELS = ["iris", "wine"];
const listener = eventListener(MODELS, { nodeSelector: { role: "system" }, tolerations: [] });
const REPO = "https://github.com/example-org/models.git";
const pipelines = renderPipelines({ accuracyThreshold: 0.9, accuracyTolerance: 0.02 });
/** The Tasks as installed, on the step runtime in an example registry. */
const tasks = allTasks(
    { promotion: promotionSchema.parse({}), alerts: alertThresholdsSchema.parse({}) },
    {},
    runtimeImage("registry.example/model-server"),
);
const GPU = {
    nodeSelector: { gpu: "true" },
    tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
    resourceName: "nvidia.com/gpu" as const,
};
const tadPipeline = pipelines.find((p) => p.metadata.name === TRAIN_AND_DEPLOY)!;
const template = trainAndDeployTemplate(tadPipeline, tasks, { trainingGpus: 0, gpuScheduling: GPU }, REPO);
const objects = { bindings: triggerBindings(), templates: [template] };

const gitPush = (body = sample("github-push.json"), extra: Record<string, string> = {}): Request => ({
    body,
    headers: {
        "content-type": "application/json",
        "x-github-event": "push",
        "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "x-hub-signature-256": githubSignature(body, SECRET),
        ...extra,
    },
});
const json = (body: string): Request => ({ body, headers: { "content-type": "application/json" } });
const paramsOf = (f: { resources: Json[] }) =>
    Object.fromEntries(f.resources[0].spec.params.map((p: Json) => [p.name, p.value]));

describe("triggers", () => {
    it("the listener is the one Alertmanager posts to", () => {
        assert.equal(listener.metadata.name, EVENT_LISTENER.name);
        assert.equal(listener.metadata.namespace, EVENT_LISTENER.namespace);
        const urls = alertmanagerConfig().receivers.flatMap((r: Json) =>
            (r.webhook_configs ?? []).map((w: Json) => w.url),
        );
        assert.deepEqual(urls, [EVENT_LISTENER_URL]);
    });

    it("has a git, dataset and alert trigger per model, each with a CEL filter that type-checks to bool", () => {
        assert.deepEqual(
            listener.spec.triggers.map((t) => t.name),
            MODELS.flatMap((m) => ["git-push", "dataset-change", "retrain-alert"].map((k) => `${m}-${k}`)),
        );
        for (const m of MODELS) for (const k of TRIGGER_KINDS) checkCel(celFilter(k, m));
    });

    it("the dataset and alert filters evaluate to false, never to an error, on every other kind of event", () => {
        // The listener runs every trigger's filter on every event; a field another kind of event lacks must be
        // tested with has() (or `in`) first, or each event logs an interceptor error.
        const events: Record<string, unknown> = {
            "Alertmanager webhook": JSON.parse(sample("alertmanager-webhook.json")),
            "EventBridge Object Created": JSON.parse(sample("eventbridge-object-created.json")),
            "GitHub push": JSON.parse(sample("github-push.json")),
            "empty object": {},
            "S3 event without detail": { source: "aws.s3", "detail-type": "Object Created" },
            "alert without commonLabels": { status: "firing" },
        };
        const own = { dataset: "EventBridge Object Created", alert: "Alertmanager webhook" } as const;
        for (const m of MODELS)
            for (const kind of ["dataset", "alert"] as const)
                for (const [name, body] of Object.entries(events)) {
                    const filter = celFilter(kind, m);
                    let value: unknown;
                    assert.doesNotThrow(() => {
                        value = evalCel(filter, { body, header: {} });
                    }, `${m} ${kind} filter on ${name}`);
                    if (name !== own[kind]) assert.equal(value, false, `${m} ${kind} filter on ${name}`);
                }
    });

    describe("git push (GitHub webhook, HMAC checked)", () => {
        it("starts train-and-deploy for the model whose files changed, at the pushed commit", () => {
            const fired = fire(listener, objects, gitPush(), secrets);
            assert.deepEqual(
                fired.map((f) => f.trigger),
                ["iris-git-push"],
            );
            const run = fired[0].resources[0];
            assert.equal(run.kind, "PipelineRun");
            assert.equal(run.spec.pipelineRef.name, TRAIN_AND_DEPLOY);
            assert.equal(run.metadata.generateName, "iris-train-and-deploy-");
            assert.deepEqual(paramsOf(fired[0]), {
                model: "iris",
                "git-url": "https://github.com/example-org/models.git",
                "git-revision": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
                "source-dir": "models/iris",
                dataset: "store:iris/",
                "trigger-time": "2026-11-23T10:15:40+01:00",
                "study-task": "deploy-new-version",
                "human-actions": "1",
                "hands-on-seconds": "",
            });
            assert.equal(run.metadata.labels["mlops-testbed/trigger"], "git-push");
        });

        it("starts one run per model when a push changes two", () => {
            const body = JSON.parse(sample("github-push.json"));
            body.commits[0].removed = ["models/wine/old.py"];
            const fired = fire(listener, objects, gitPush(JSON.stringify(body)), secrets);
            assert.deepEqual(fired.map((f) => f.trigger).sort(), ["iris-git-push", "wine-git-push"]);
        });

        it("ignores pushes that change no model, to other branches, or that are not push events", () => {
            const body = JSON.parse(sample("github-push.json"));
            body.commits = [body.commits[0]];
            assert.deepEqual(fire(listener, objects, gitPush(JSON.stringify(body)), secrets), []);
            const branch = JSON.parse(sample("github-push.json"));
            branch.ref = "refs/heads/feature";
            assert.deepEqual(fire(listener, objects, gitPush(JSON.stringify(branch)), secrets), []);
            assert.deepEqual(
                fire(listener, objects, gitPush(undefined, { "x-github-event": "pull_request" }), secrets),
                [],
            );
        });

        it("its github interceptor verifies the signature with the webhook Secret: secretRef names it and its key", () => {
            for (const t of listener.spec.triggers.filter((x) => x.name.endsWith("-git-push"))) {
                const github = (t.interceptors as Json[]).filter((i) => i.ref.name === "github");
                assert.equal(github.length, 1, t.name);
                const params = Object.fromEntries(github[0].params.map((p: Json) => [p.name, p.value]));
                assert.deepEqual(params.secretRef, {
                    secretName: GIT_WEBHOOK_SECRET.name,
                    secretKey: GIT_WEBHOOK_SECRET.key,
                });
                assert.ok((t.interceptors as Json[]).indexOf(github[0]) === 0, `${t.name}: checked before the filter`);
            }
        });

        it("HMAC property: a push signed over its exact body with the webhook secret starts the run; a wrong, missing or stale signature starts nothing", () => {
            const base = JSON.parse(sample("github-push.json"));
            fc.assert(
                fc.property(
                    fc.string({ minLength: 1, maxLength: 40 }),
                    fc.string({ minLength: 1, maxLength: 40 }),
                    fc.string({ maxLength: 30 }),
                    (secret, other, message) => {
                        fc.pre(secret !== other);
                        const body = JSON.stringify({ ...base, head_commit: { ...base.head_commit, message } });
                        const cluster: SecretObject[] = [
                            {
                                metadata: { name: GIT_WEBHOOK_SECRET.name, namespace: EVENT_LISTENER.namespace },
                                data: { [GIT_WEBHOOK_SECRET.key]: Buffer.from(secret).toString("base64") },
                            },
                        ];
                        const push = (signature?: string) =>
                            fire(
                                listener,
                                objects,
                                gitPush(body, signature === undefined ? {} : { "x-hub-signature-256": signature }),
                                cluster,
                            ).filter((f) => f.trigger.endsWith("-git-push"));
                        const unsigned = gitPush(body);
                        delete (unsigned.headers as Record<string, string>)["x-hub-signature-256"];
                        assert.deepEqual(
                            push(githubSignature(body, secret)).map((f) => f.trigger),
                            ["iris-git-push"],
                        );
                        assert.deepEqual(push(githubSignature(body, other)), [], "signed with another secret");
                        assert.deepEqual(push(githubSignature(`${body} `, secret)), [], "signature of another body");
                        assert.deepEqual(push("sha256="), [], "empty signature");
                        assert.deepEqual(
                            fire(listener, objects, unsigned, cluster).filter((f) => f.trigger.endsWith("-git-push")),
                            [],
                            "no X-Hub-Signature-256",
                        );
                    },
                ),
                { numRuns: 50 },
            );
        });

        it("refuses GitHub's SHA-1 header alone, a signature that is not hex, and a secret it cannot find", () => {
            const req = gitPush();
            const { "x-hub-signature-256": _s, ...unsigned } = req.headers;
            const sha1 = `sha1=${createHmac("sha1", SECRET).update(req.body).digest("hex")}`;
            assert.deepEqual(
                fire(listener, objects, { ...req, headers: { ...unsigned, "x-hub-signature": sha1 } }, secrets),
                [],
            );
            assert.deepEqual(
                fire(
                    listener,
                    objects,
                    { ...req, headers: { ...req.headers, "x-hub-signature-256": "sha256=zz" } },
                    secrets,
                ),
                [],
            );
            assert.deepEqual(fire(listener, objects, req, []), [], "no Secret in the cluster");
            const elsewhere = secrets.map((x) => ({ ...x, metadata: { ...x.metadata, namespace: "default" } }));
            assert.deepEqual(fire(listener, objects, req, elsewhere), [], "the Secret in another namespace");
        });

        it("a prefix of another model's name does not match (models/iris-large/ is not iris)", () => {
            const body = JSON.parse(sample("github-push.json"));
            body.commits = [{ ...body.commits[1], added: [], modified: ["models/iris-large/train.py"] }];
            assert.deepEqual(fire(listener, objects, gitPush(JSON.stringify(body)), secrets), []);
        });
    });

    describe("dataset change (S3 Object Created via EventBridge)", () => {
        it("retrains the model whose data changed, naming the object", () => {
            const fired = fire(listener, objects, json(sample("eventbridge-object-created.json")), secrets);
            assert.deepEqual(
                fired.map((f) => f.trigger),
                ["iris-dataset-change"],
            );
            assert.deepEqual(paramsOf(fired[0]), {
                model: "iris",
                "git-url": REPO,
                "git-revision": "main",
                "source-dir": "models/iris",
                dataset: "store:iris/2026-11-23/train.csv",
                "trigger-time": "2026-11-23T09:20:11Z",
                "study-task": "retrain-changed-data",
                "human-actions": "1",
                "hands-on-seconds": "",
            });
        });

        it("ignores deletions, other prefixes, and anything that came through the webhook gateway", () => {
            const del = JSON.parse(sample("eventbridge-object-created.json"));
            del["detail-type"] = "Object Deleted";
            assert.deepEqual(fire(listener, objects, json(JSON.stringify(del)), secrets), []);
            const other = JSON.parse(sample("eventbridge-object-created.json"));
            other.detail.object.key = "shared/readme.txt";
            assert.deepEqual(fire(listener, objects, json(JSON.stringify(other)), secrets), []);
            const outside = {
                body: sample("eventbridge-object-created.json"),
                headers: { [SOURCE_HEADER.name.toLowerCase()]: SOURCE_HEADER.value },
            };
            assert.deepEqual(fire(listener, objects, outside, secrets), []);
        });
    });

    describe("dataset change on Azure and existing clusters (the consumers' translations)", () => {
        /** Each platform's consumer script, and the contract's helper it imports (shipped beside it). */
        const SCRIPTS = { event_grid: EVENT_GRID_CONSUMER_SCRIPT, seaweedfs_filer: FILER_CONSUMER_SCRIPT } as const;
        const CONTRACT = path.join(__dirname, "..", "..", "contract");
        /** Runs a consumer script's own translate() on its platform's sample and returns what it would post. */
        const translated = (script: keyof typeof SCRIPTS, call: string, sampleName: string): string => {
            const code = `import json, sys; import ${script} as m; raw = open(sys.argv[1]).read(); print(json.dumps(${call}))`;
            // The script's directory is the top level, as when the pod runs it from its mount beside the helper.
            const dir = path.dirname(SCRIPTS[script]);
            const run = runPython(["-c", code, path.join(dir, "samples", sampleName)], {
                cwd: dir,
                pythonPath: [dir, CONTRACT],
                timeout: 60_000,
            });
            assert.ifError(run.error);
            assert.equal(run.status, 0, run.stderr);
            return run.stdout.trim();
        };
        const eventbridge = () =>
            paramsOf(fire(listener, objects, json(sample("eventbridge-object-created.json")), secrets)[0]);

        it("an Event Grid BlobCreated event, translated, starts the same run as S3's Object Created", () => {
            const body = translated(
                "event_grid",
                "m.translate(json.loads(raw), 'datasets')",
                "event-grid-blob-created.json",
            );
            const fired = fire(listener, objects, json(body), secrets);
            assert.deepEqual(
                fired.map((f) => f.trigger),
                ["iris-dataset-change"],
            );
            assert.deepEqual(paramsOf(fired[0]), eventbridge());
        });

        it("a SeaweedFS filer.meta.tail line, translated, starts the same run as S3's Object Created", () => {
            const body = translated(
                "seaweedfs_filer",
                "m.translate(json.loads(raw.splitlines()[0]), '/buckets', 'datasets')",
                "seaweedfs-filer-meta-tail.jsonl",
            );
            const fired = fire(listener, objects, json(body), secrets);
            assert.deepEqual(
                fired.map((f) => f.trigger),
                ["iris-dataset-change"],
            );
            assert.deepEqual(paramsOf(fired[0]), eventbridge());
        });

        it("what the translations ignore is null, which the consumers never post", () => {
            assert.equal(
                translated("event_grid", "m.translate(json.loads(raw), 'models')", "event-grid-blob-created.json"),
                "null",
            );
            assert.equal(
                translated(
                    "seaweedfs_filer",
                    "m.translate(json.loads(raw.splitlines()[0]), '/buckets', 'models')",
                    "seaweedfs-filer-meta-tail.jsonl",
                ),
                "null",
            );
        });
    });

    describe("retrain alert (Alertmanager webhook)", () => {
        it("retrains the alerted model on the latest data", () => {
            const fired = fire(listener, objects, json(sample("alertmanager-webhook.json")), secrets);
            assert.deepEqual(
                fired.map((f) => f.trigger),
                ["iris-retrain-alert"],
            );
            assert.deepEqual(paramsOf(fired[0]), {
                model: "iris",
                "git-url": REPO,
                "git-revision": "main",
                "source-dir": "models/iris",
                dataset: "store:iris/",
                "trigger-time": "2026-11-23T08:50:30.123Z",
                "study-task": "retrain-changed-data",
                // An alert started it: no person involved (ease of deployment).
                "human-actions": "0",
                "hands-on-seconds": "0",
            });
            assert.equal(fired[0].resources[0].metadata.labels["mlops-testbed/trigger"], "ModelDataDrift");
        });

        it("ignores resolved alerts, models not configured, and alerts sent through the webhook gateway", () => {
            const resolved = JSON.parse(sample("alertmanager-webhook.json"));
            resolved.status = "resolved";
            assert.deepEqual(fire(listener, objects, json(JSON.stringify(resolved)), secrets), []);
            const unknown = JSON.parse(sample("alertmanager-webhook.json"));
            unknown.commonLabels.model = "mnist";
            assert.deepEqual(fire(listener, objects, json(JSON.stringify(unknown)), secrets), []);
            const outside = { body: sample("alertmanager-webhook.json"), headers: { "X-MLOPS-SOURCE": "anything" } };
            assert.deepEqual(fire(listener, objects, outside, secrets), []);
        });
    });

    it("no payload of one kind fires a trigger of another", () => {
        const fired = [
            ...fire(listener, objects, gitPush(), secrets),
            ...fire(listener, objects, json(sample("eventbridge-object-created.json")), secrets),
            ...fire(listener, objects, json(sample("alertmanager-webhook.json")), secrets),
            ...fire(listener, objects, json(sample("github-push.json")), secrets),
        ];
        assert.deepEqual(
            fired.map((f) => f.trigger),
            ["iris-git-push", "iris-dataset-change", "iris-retrain-alert"],
        );
    });

    describe("wiring: every trigger creates a valid train-and-deploy run", function () {
        this.timeout(120_000);
        const firedRuns = () => [
            ...fire(listener, objects, gitPush(), secrets),
            ...fire(listener, objects, json(sample("eventbridge-object-created.json")), secrets),
            ...fire(listener, objects, json(sample("alertmanager-webhook.json")), secrets),
        ];

        it("the template's PipelineRun names an existing Pipeline, passes only declared params and every required one", () => {
            assert.deepEqual(templateProblems(template, pipelines), []);
            // The run leaves version and strategy to the pipeline (choose-versions reads the route).
            const names = template.spec.resourcetemplates[0].spec.params.map((p: Json) => p.name);
            assert.ok(!names.includes("version") && !names.includes("strategy"));
        });

        it("the wiring checks can fail: an undeclared param, a missing required one, an unused template param", () => {
            const run = template.spec.resourcetemplates[0];
            const broken = {
                ...template,
                spec: {
                    params: [...template.spec.params, { name: "unused", description: "x" }],
                    resourcetemplates: [
                        {
                            ...run,
                            spec: {
                                ...run.spec,
                                params: [
                                    ...run.spec.params.filter((p: Json) => p.name !== "model"),
                                    { name: "dataset-key", value: "$(tt.params.nope)" },
                                ],
                            },
                        },
                    ],
                },
            };
            assert.deepEqual(templateProblems(broken, pipelines), [
                "uses undeclared param nope",
                "declares unused but never uses it",
                "its PipelineRun passes dataset-key, which train-and-deploy does not declare",
                "its PipelineRun misses train-and-deploy's required param model",
            ]);
        });

        it("the real-shaped payloads become runs that pass the wiring checks, each task as its role", () => {
            const fired = firedRuns();
            assert.equal(fired.length, 3);
            for (const f of fired) {
                const run = f.resources[0];
                assert.deepEqual(runProblems(run, pipelines), [], f.trigger);
                assert.doesNotMatch(JSON.stringify(run), /\$\(tt\./, "every template param substituted");
                const sa = Object.fromEntries(
                    run.spec.taskRunSpecs.map((t: Json) => [t.pipelineTaskName, t.serviceAccountName]),
                );
                assert.equal(sa["choose-versions"], "deployer");
                assert.equal(sa.promote, "deployer");
                assert.equal(sa.train, "trainer");
                assert.equal(sa["build-image"], "builder");
                assert.ok(run.spec.workspaces.some((w: Json) => w.name === "source" && w.volumeClaimTemplate));
            }
        });

        it("GPU training: the run a trigger creates puts training on GPU nodes", () => {
            const gpuTemplate = trainAndDeployTemplate(
                tadPipeline,
                tasks,
                { trainingGpus: 1, gpuScheduling: GPU },
                REPO,
            );
            const [f] = fire(
                listener,
                { ...objects, templates: [gpuTemplate] },
                json(sample("alertmanager-webhook.json")),
                secrets,
            );
            const train = f.resources[0].spec.taskRunSpecs.find((t: Json) => t.pipelineTaskName === "train");
            assert.deepEqual(train.podTemplate.nodeSelector, GPU.nodeSelector);
        });

        it("is clean under @ibm/tekton-lint: the triggers objects with the Pipelines and Tasks, and the runs they create", async () => {
            const created = firedRuns().map((f) => ({
                ...f.resources[0],
                metadata: { ...f.resources[0].metadata, name: `${f.trigger}-run` },
            }));
            assert.deepEqual(
                await lint([...tasks, ...pipelines, ...triggerBindings(), template, listener, ...created]),
                [],
            );
        });

        it("tekton-lint reads the Triggers kinds: a template param train-and-deploy does not declare is reported", async () => {
            const run = template.spec.resourcetemplates[0];
            const broken = {
                ...template,
                spec: {
                    ...template.spec,
                    resourcetemplates: [
                        {
                            ...run,
                            spec: {
                                ...run.spec,
                                params: [...run.spec.params, { name: "colour", value: "$(tt.params.trigger)" }],
                            },
                        },
                    ],
                },
            };
            const problems = await lint([...tasks, ...pipelines, broken]);
            assert.ok(
                problems.some((p) => /colour/.test(p.message)),
                JSON.stringify(problems),
            );
        });
    });

    describe("the simulation itself", () => {
        it("CEL: the interceptor's variables with CEL's semantics; Tekton's own functions are not there", () => {
            const env = { body: { a: { b: "xyz" }, l: [1, 2] }, header: { "X-A": ["1"] } };
            assert.equal(evalCel("body.a.b.startsWith('xy') && 2 in body.l", env), true);
            assert.equal(evalCel("false && body.nope.x == 1", env), false);
            assert.equal(evalCel("body.nope.x == 1 || true", env), true);
            assert.throws(() => evalCel("body.nope == 1", env), /cel: No such key: nope/);
            assert.equal(evalCel("!('X-B' in header) && 'X-A' in header && header['X-A'][0] == '1'", env), true);
            assert.equal(evalCel("body.l.exists(x, x > 1) && !body.l.all(x, x > 1)", env), true);
            assert.equal(evalCel("requestURL == '/'", env), true);
            assert.throws(() => checkCel("body.a ? 1 : 2"), /cel:/);
            assert.throws(() => checkCel("size(body) + 1"), /must yield bool, not int/);
            assert.throws(() => checkCel("headers.size() > 0"), /Unknown variable: headers/);
            assert.throws(() => checkCel("compareSecret(body.a.b, 'x')"), /no matching overload/);
            assert.equal(evalCel("has(body.a) && has(body.a.b) && !has(body.nope)", env), true);
            assert.throws(() => evalCel("has(body.nope.x)", env), /cel: No such key: nope/);
        });

        it("signs as GitHub documents (its test vector) and, like Triggers v0.37, checks nothing without a secretRef", () => {
            assert.equal(
                githubSignature("Hello, World!", "It's a Secret to Everybody"),
                "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
            );
            const open = {
                ...listener,
                spec: {
                    ...listener.spec,
                    triggers: listener.spec.triggers.map((t) => ({
                        ...t,
                        interceptors: (t.interceptors as Json[]).map((i) =>
                            i.ref.name === "github"
                                ? { ...i, params: i.params.filter((p: Json) => p.name !== "secretRef") }
                                : i,
                        ),
                    })),
                },
            };
            const { "x-hub-signature-256": _s, ...unsigned } = gitPush().headers;
            const req = { body: sample("github-push.json"), headers: unsigned };
            assert.deepEqual(
                fire(open, objects, req, []).map((f) => f.trigger),
                ["iris-git-push"],
            );
            assert.deepEqual(fire(listener, objects, req, secrets), []);
            assert.deepEqual(
                fire(
                    listener,
                    objects,
                    {
                        ...gitPush(),
                        headers: { ...gitPush().headers, "content-type": "application/x-www-form-urlencoded" },
                    },
                    secrets,
                ),
                [],
                "form-encoded bodies are refused",
            );
        });

        it("bindings: paths with indexes resolve; a missing path fails", () => {
            const event = { body: { alerts: [{ startsAt: "t0" }], n: 3 } };
            assert.equal(resolveBinding("$(body.alerts[0].startsAt)", event), "t0");
            assert.equal(resolveBinding("n=$(body.n)", event), "n=3");
            assert.throws(() => resolveBinding("$(body.alerts[1].startsAt)", event), /no value at body\.alerts\[1\]/);
        });
    });
});
