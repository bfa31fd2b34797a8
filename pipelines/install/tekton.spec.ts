import * as assert from "node:assert/strict";
import { GATEWAY_NAMESPACE, PIPELINES_NAMESPACE } from "../../contract/names";
import { controllerServiceMonitor, OBSERVABILITY } from "./tekton";
import { PIPELINE_NAMES } from "..";
import { LIB_CONFIGMAP, LIB_PATH, ROLE_LABEL, STEP_USAGE_FILE } from "../core/context";
import { TEKTON } from "../../contract/versions";
import type { Plan } from "../../tools/mock-runtime";
import {
    WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION,
    WORKLOAD_IDENTITY_USE_LABEL,
} from "../../components/azure/workload-identity";
import {
    descendantsOf,
    findResource,
    issueAt,
    jsonInput,
    planConfigIssues,
    planStack,
    resourcesOfType,
} from "../../test/harness";
import { objectsOfKind, schemaErrors } from "../../test/k8s-objects";
import { metricFactsOf } from "../../test/upstream-facts";
import type { Json } from "../../test/json";

const T = {
    configFile: "kubernetes:yaml/v2:ConfigFile",
    patch: "kubernetes:core/v1:ConfigMapPatch",
    sa: "kubernetes:core/v1:ServiceAccount",
    policy: "aws:iam/rolePolicy:RolePolicy",
    role: "aws:iam/role:Role",
};

describe("Tekton install, service accounts and pipeline objects", () => {
    let plan: Plan;
    before(async () => {
        plan = await planStack("dev");
    });

    it("ships the step library as the package its steps import: every module they name is in the ConfigMap, laid out", () => {
        const lib = objectsOfKind(plan, "ConfigMap", PIPELINES_NAMESPACE).find(
            (c) => c.metadata.name === LIB_CONFIGMAP,
        );
        assert.ok(lib, "the library ConfigMap");
        const keys = Object.keys((lib as Json).data);
        const users = [
            ...objectsOfKind(plan, "Task", PIPELINES_NAMESPACE),
            ...objectsOfKind(plan, "CronJob", PIPELINES_NAMESPACE),
        ];
        const text = JSON.stringify(users);
        const modules = new Set([
            ...[...text.matchAll(/from mlops_steps import ([\w, ]+)/g)].flatMap((m) => m[1].split(/,\s*/)),
            ...[...text.matchAll(/"mlops_steps\.(\w+)"/g)].map((m) => m[1]),
            ...[...text.matchAll(/from mlops_steps\.(\w+) import/g)].map((m) => m[1]),
        ]);
        assert.deepEqual([...modules].sort(), ["datasets", "kube", "metrics", "prune", "registry", "store"]);
        for (const m of modules) assert.ok(keys.includes(`mlops_steps.${m}.py`), `${m}.py is in the ConfigMap`);
        // Every volume of the library lays the keys out as the package directory (and requirements.txt beside it).
        const volumes: Json[] = [];
        const walk = (o: Json): void => {
            if (Array.isArray(o)) o.forEach(walk);
            else if (o && typeof o === "object") {
                if (o.configMap?.name === LIB_CONFIGMAP) volumes.push(o);
                Object.values(o).forEach(walk);
            }
        };
        for (const u of users.filter((x) => JSON.stringify(x).includes("mlops_steps"))) {
            const before = volumes.length;
            walk(u);
            assert.ok(volumes.length > before, `${u.metadata.name} mounts the library`);
        }
        for (const v of volumes) {
            const items = v.configMap.items as { key: string; path: string }[];
            assert.deepEqual(items.map((i) => i.key).sort(), [...keys].sort());
            for (const i of items)
                assert.equal(
                    i.path,
                    i.key === STEP_USAGE_FILE ? i.key : i.key.replace(/^mlops_steps\./, "mlops_steps/"),
                );
        }
        assert.ok(keys.includes("mlops_steps.__init__.py") && keys.includes(STEP_USAGE_FILE));
    });

    it("every file a step or the pruner reads under the library's path is laid out by its library volume", () => {
        const lib = objectsOfKind(plan, "ConfigMap", PIPELINES_NAMESPACE).find(
            (c) => c.metadata.name === LIB_CONFIGMAP,
        )!;
        assert.ok(lib, "the library ConfigMap is in the plan");
        const users = [
            ...objectsOfKind(plan, "Task", PIPELINES_NAMESPACE),
            ...objectsOfKind(plan, "CronJob", PIPELINES_NAMESPACE),
        ];
        const read = new Set<string>();
        for (const u of users) {
            const text = JSON.stringify(u);
            const files = [...text.matchAll(new RegExp(`${LIB_PATH}/([\\w./-]+)`, "g"))].map((m) => m[1]);
            if (files.length === 0) continue;
            const laidOut: string[] = [];
            const walk = (o: Json): void => {
                if (Array.isArray(o)) o.forEach(walk);
                else if (o && typeof o === "object") {
                    if (o.configMap?.name === LIB_CONFIGMAP)
                        laidOut.push(...o.configMap.items.map((i: Json) => i.path));
                    Object.values(o).forEach(walk);
                }
            };
            walk(u);
            for (const f of files) {
                assert.ok(laidOut.includes(f), `${u.kind} ${u.metadata.name} reads ${LIB_PATH}/${f}`);
                read.add(f);
            }
        }
        assert.ok(read.has(STEP_USAGE_FILE), "every step runs under the usage wrapper from the library");
    });

    it("installs Pipelines v1.15.x and the matching Triggers from their pinned release manifests, under the component", () => {
        assert.match(TEKTON.pipelines.version, /^v1\.15\.\d+$/, "the dashboards use Tekton v1.15's metric names");
        const component = findResource(plan, "mlops-testbed:pipelines:Tekton", "tekton");
        const children = descendantsOf(plan, component.urn);
        const files = resourcesOfType(plan, T.configFile);
        assert.deepEqual(
            files.map((f) => f.inputs.file),
            [...TEKTON.pipelines.manifests, ...TEKTON.triggers.manifests],
        );
        for (const f of files) {
            assert.ok(children.includes(f));
            assert.ok(
                String(f.inputs.file).includes(
                    `/previous/${f.name.includes("triggers") ? TEKTON.triggers.version : TEKTON.pipelines.version}/`,
                ),
            );
        }
        const pipelines = findResource(plan, T.configFile, "tekton-pipelines");
        for (const t of files.filter((f) => f !== pipelines))
            assert.ok(t.dependsOn.includes(pipelines.urn), "Triggers after Pipelines (its CRDs)");
    });

    it("patches config-observability for per-pipeline and per-task duration histograms, after the install", () => {
        const patch = findResource(plan, T.patch, "tekton-observability");
        assert.deepEqual(patch.inputs.data, {
            "metrics.pipelinerun.level": "pipeline",
            "metrics.pipelinerun.duration-type": "histogram",
            "metrics.taskrun.level": "task",
            "metrics.taskrun.duration-type": "histogram",
        });
        assert.deepEqual(patch.inputs.data, { ...OBSERVABILITY });
        const meta = patch.inputs.metadata as Record<string, Json>;
        assert.equal(meta.name, "config-observability");
        assert.equal(meta.namespace, TEKTON.pipelines.namespace);
        assert.equal(
            meta.annotations["mlops-testbed/tekton-version"],
            TEKTON.pipelines.version,
            "an upgrade re-applies the patch",
        );
        assert.ok(patch.dependsOn.includes(findResource(plan, T.configFile, "tekton-pipelines").urn));
    });

    it("scrapes the controller's metrics port with a valid ServiceMonitor, after the monitoring stack", async () => {
        const [sm] = objectsOfKind(plan, "ServiceMonitor").filter(
            (o) => o.metadata.name === "tekton-pipelines-controller",
        );
        assert.ok(sm);
        assert.equal(await schemaErrors(sm), "");
        assert.deepEqual(sm.spec.namespaceSelector, { matchNames: ["tekton-pipelines"] });
        assert.equal(sm.spec.endpoints[0].port, "http-metrics");
        assert.deepEqual(sm, controllerServiceMonitor());
        const r = findResource(plan, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "tekton-controller-metrics");
        assert.ok(r.dependsOn.includes(findResource(plan, "kubernetes:helm.sh/v3:Release", "monitoring-stack").urn));
        const series = metricFactsOf("tektonPipelines").series;
        // The dashboards' per-pipeline duration histogram exists with the pipeline label at the level we configure.
        assert.ok(series.tekton_pipelines_controller_pipelinerun_duration_seconds_bucket.includes("pipeline"));
    });

    it("creates the pipelines namespace and the trainer, builder and deployer service accounts", () => {
        const ns = objectsOfKind(plan, "Namespace").find((o) => o.metadata.name === PIPELINES_NAMESPACE);
        assert.ok(ns);
        assert.equal(ns.metadata.labels?.["pod-security.kubernetes.io/enforce"], "baseline");
        const sas = objectsOfKind(plan, "ServiceAccount", PIPELINES_NAMESPACE);
        // dataset-events and triggers belong to the triggers (pipelines/install/triggers.spec.ts).
        assert.deepEqual(sas.map((s) => s.metadata.name).sort(), [
            "builder",
            "dataset-events",
            "deployer",
            "run-pruner",
            "trainer",
            "triggers",
        ]);
        const sa = (n: string) => sas.find((s) => s.metadata.name === n)!;
        assert.match(sa("trainer").metadata.annotations?.["eks.amazonaws.com/role-arn"] ?? "", /^arn:aws:iam::/);
        assert.match(sa("builder").metadata.annotations?.["eks.amazonaws.com/role-arn"] ?? "", /^arn:aws:iam::/);
        assert.deepEqual(sa("deployer").metadata.annotations ?? {}, {}, "the deployer has no cloud identity");
        assert.equal(sa("deployer").automountServiceAccountToken, true);
        assert.equal(sa("trainer").automountServiceAccountToken, false);
    });

    it("scopes the trainer to reading datasets and reading/writing models/, never deleting", () => {
        const doc = jsonInput(findResource(plan, T.policy, "aws-pipelines-trainer-policy"), "policy");
        const objects = doc.Statement.filter((s: Json) => s.Sid.startsWith("Objects"));
        assert.equal(objects.length, 2);
        const datasets = objects.find((s: Json) => /datasets/.test(s.Resource));
        const models = objects.find((s: Json) => /models/.test(s.Resource));
        assert.match(models.Resource, /\/models\/\*$/);
        assert.ok(
            datasets.Action.every((a: string) => /^s3:Get/.test(a)),
            "datasets read-only",
        );
        assert.ok(models.Action.includes("s3:PutObject") && models.Action.includes("s3:GetObject"));
        assert.ok(!JSON.stringify(doc).includes("s3:DeleteObject"));
        assert.ok(!JSON.stringify(doc).includes("ecr:"), "the trainer cannot push images");
    });

    it("scopes the builder to pushing images, with no store access; the deployer gets no cloud role", () => {
        const doc = jsonInput(findResource(plan, T.policy, "aws-pipelines-builder-policy"), "policy");
        assert.ok(!JSON.stringify(doc).includes("s3:"));
        assert.ok(doc.Statement.some((s: Json) => s.Action.includes("ecr:PutImage")));
        assert.ok(!resourcesOfType(plan, T.role).some((r) => r.name.includes("deployer")));
        const trust = jsonInput(findResource(plan, T.role, "aws-pipelines-builder-role"), "assumeRolePolicy");
        assert.ok(JSON.stringify(trust).includes("system:serviceaccount:pipelines:builder"));
    });

    it("lets the deployer update routes in the gateway namespace only, and nothing cluster-wide", () => {
        const role = objectsOfKind(plan, "Role", GATEWAY_NAMESPACE).find(
            (r) => r.metadata.name === "pipelines-route-updater",
        )!;
        // Read and patch, by name, the model routes the settings name (MODEL_ROUTES); no list, no other route.
        const settings = objectsOfKind(plan, "ConfigMap", PIPELINES_NAMESPACE).find(
            (o) => o.metadata.name === "pipeline-settings",
        )!;
        assert.deepEqual(role.rules, [
            {
                apiGroups: ["gateway.networking.k8s.io"],
                resources: ["httproutes"],
                verbs: ["get", "patch"],
                resourceNames: Object.values(JSON.parse(settings.data.MODEL_ROUTES) as Record<string, string>).sort(),
            },
        ]);
        const binding = objectsOfKind(plan, "RoleBinding", GATEWAY_NAMESPACE).find(
            (r) => r.metadata.name === "pipelines-route-updater",
        )!;
        assert.deepEqual(binding.subjects, [
            { kind: "ServiceAccount", name: "deployer", namespace: PIPELINES_NAMESPACE },
        ]);
        for (const kind of ["ClusterRoleBinding", "ClusterRole"])
            assert.deepEqual(
                objectsOfKind(plan, kind).filter((o) => JSON.stringify(o).includes("deployer")),
                [],
            );
    });

    it("applies every Task and Pipeline as tekton.dev/v1 objects in the pipelines namespace, after the install", () => {
        const install = findResource(plan, T.configFile, "tekton-pipelines");
        const pipelines = objectsOfKind(plan, "Pipeline", PIPELINES_NAMESPACE);
        assert.deepEqual(pipelines.map((p) => p.metadata.name).sort(), [...PIPELINE_NAMES].sort());
        assert.ok(pipelines.every((p) => p.apiVersion === "tekton.dev/v1"));
        // 12 from the Tekton component, and the promote Task (pipelines/install/triggers.spec.ts).
        const tasks = objectsOfKind(plan, "Task", PIPELINES_NAMESPACE);
        assert.equal(tasks.length, 13);
        // Every task a pipeline references is applied (promote by the Promotion component).
        const applied = new Set(tasks.map((t) => t.metadata.name));
        for (const p of pipelines)
            for (const pt of [...p.spec.tasks, ...(p.spec.finally ?? [])])
                assert.ok(applied.has(pt.taskRef.name), `${p.metadata.name}/${pt.name} → ${pt.taskRef.name}`);
        for (const r of resourcesOfType(plan, "kubernetes:tekton.dev/v1:Task"))
            assert.ok(r.dependsOn.includes(install.urn));
        const train = pipelines.find((p) => p.metadata.name === "train")!;
        const param = (n: string) => train.spec.params.find((p: Json) => p.name === n).default;
        assert.equal(param("threshold"), "0.9");
        assert.equal(param("tolerance"), "0.02");
    });

    it("fills the settings ConfigMap from the platform and prunes runs beyond keepRuns", () => {
        const settings = objectsOfKind(plan, "ConfigMap", PIPELINES_NAMESPACE).find(
            (c) => c.metadata.name === "pipeline-settings",
        )!;
        assert.equal(settings.data.STORE_KIND, "s3");
        assert.match(settings.data.PUSHGATEWAY_URL, /^http:\/\/pushgateway-prometheus-pushgateway\.monitoring\.svc/);
        assert.deepEqual(JSON.parse(settings.data.GPU_TOLERATIONS), [
            { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" },
        ]);
        const cron = objectsOfKind(plan, "CronJob", PIPELINES_NAMESPACE)[0];
        assert.ok(
            cron.spec.jobTemplate.spec.template.spec.containers[0].env.some(
                (e: Json) => e.name === "KEEP_RUNS" && e.value === "20",
            ),
            "dev keeps 20 runs",
        );
    });

    it("outputs the pipelines namespace and pipeline names", () => {
        assert.equal(plan.outputs.pipelinesNamespace, PIPELINES_NAMESPACE);
        assert.deepEqual(plan.outputs.pipelines, [...PIPELINE_NAMES]);
    });

    it("takes the gate defaults from config and refuses bad pipeline settings", async () => {
        const custom = await planStack("dev", { pipelines: { accuracyThreshold: 0.8, accuracyTolerance: 0.05 } });
        const train = objectsOfKind(custom, "Pipeline", PIPELINES_NAMESPACE).find((p) => p.metadata.name === "train")!;
        assert.equal(train.spec.params.find((p: Json) => p.name === "threshold").default, "0.8");
        const issues = await planConfigIssues("dev", {
            pipelines: { accuracyThreshold: 1.5, trainingGpus: 2 },
            gpuNodePools: [],
        });
        issueAt(issues, "mlops-testbed:pipelines.accuracyThreshold", /from 0 to 1/);
        const gpu = await planConfigIssues("dev", { pipelines: { trainingGpus: 2 }, gpuNodePools: [] });
        issueAt(gpu, "mlops-testbed:pipelines.trainingGpus", /needs a GPU node pool/);
    });
});

describe("Workload identity on the pipelines' pods (AKS)", () => {
    const rolesOf = (plan: Plan) =>
        objectsOfKind(plan, "Task", PIPELINES_NAMESPACE).map((t) => ({
            task: t.metadata.name as string,
            role: t.metadata.labels?.[ROLE_LABEL],
            identityLabel: t.metadata.labels?.[WORKLOAD_IDENTITY_USE_LABEL],
        }));

    it("labels the trainer's and builder's Tasks, which Tekton copies to their pods; not the deployer's", async () => {
        const tasks = rolesOf(await planStack("azure-example"));
        assert.ok(tasks.length >= 13, "every Task, promote included");
        for (const t of tasks) {
            const needsIdentity = t.role === "trainer" || t.role === "builder";
            assert.equal(t.identityLabel, needsIdentity ? "true" : undefined, `${t.task} (${t.role})`);
        }
        assert.ok(
            tasks.some((t) => t.role === "builder" && t.identityLabel === "true"),
            "build-image",
        );
        assert.ok(
            tasks.some((t) => t.role === "deployer"),
            "deployer Tasks exist and stay unlabelled",
        );
    });

    it("the labelled roles' service accounts carry the client id the label makes AKS inject", async () => {
        const plan = await planStack("azure-example");
        const accounts = objectsOfKind(plan, "ServiceAccount", PIPELINES_NAMESPACE).filter((o) =>
            ["trainer", "builder"].includes(o.metadata.name ?? ""),
        );
        assert.equal(accounts.length, 2);
        for (const sa of accounts)
            assert.ok(sa.metadata.annotations?.[WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION], sa.metadata.name);
    });

    it("adds no identity label where the platform needs none (AWS IRSA, existing clusters)", async () => {
        for (const stack of ["dev", "existing-example"])
            for (const t of rolesOf(await planStack(stack)))
                assert.equal(t.identityLabel, undefined, `${stack}: ${t.task}`);
    });
});
