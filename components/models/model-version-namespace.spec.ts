import * as assert from "node:assert/strict";
import {
    DEPLOY_SETTINGS,
    MODEL_SERVER,
    MODEL_SERVER_PORTS,
    MODEL_SERVER_RESOURCES,
    NAMESPACE_ANNOTATIONS,
    PIPELINE_SERVICE_ACCOUNTS,
} from "../../contract/names";
import { DEPLOYER_RULES } from "./rbac";
import type { Plan, PlannedResource } from "../../tools/mock-runtime";
import { descendantsOf, findResource, jsonInput, planStack, resourcesOfType } from "../../test/harness";
import { kubernetesResources, objectsOfKind, schemaErrors, toObject, UNMODELLED_GROUPS } from "../../test/k8s-objects";
import { MODELS, VERSIONS } from "../../test/model-fixtures";
import type { Json } from "../../test/json";

describe("ModelVersionNamespace (dev stack, four models, every strategy)", () => {
    let plan: Plan;
    before(async () => {
        plan = await planStack("dev", { models: MODELS });
    });

    it("creates one namespace <model>-<version> per version, labelled and with Pod Security restricted", () => {
        for (const { model, version, namespace } of VERSIONS) {
            const [ns] = objectsOfKind(plan, "Namespace").filter((o) => o.metadata.name === namespace);
            assert.ok(ns, `namespace ${namespace}`);
            assert.deepEqual(
                { ...ns.metadata.labels },
                {
                    "app.kubernetes.io/part-of": "mlops-testbed",
                    "mlops-testbed/model": model,
                    "mlops-testbed/version": version,
                    "pod-security.kubernetes.io/enforce": "restricted",
                    "pod-security.kubernetes.io/enforce-version": "latest",
                    "pod-security.kubernetes.io/audit": "restricted",
                    "pod-security.kubernetes.io/warn": "restricted",
                },
            );
        }
    });

    it("puts the same set of objects in every version namespace", () => {
        for (const { namespace } of VERSIONS) {
            const kinds = kubernetesResources(plan)
                .map(toObject)
                .filter((o) => o.metadata.namespace === namespace)
                .map((o) => `${o.kind}/${o.metadata.name}`)
                .sort();
            assert.deepEqual(
                kinds,
                [
                    "ConfigMap/model-server-deploy",
                    "LimitRange/container-defaults",
                    "NetworkPolicy/allow-artifact-store",
                    "NetworkPolicy/allow-dns",
                    "NetworkPolicy/allow-metrics-from-monitoring",
                    "NetworkPolicy/allow-serving-from-gateway",
                    "NetworkPolicy/allow-smoke-tests-from-pipelines",
                    "NetworkPolicy/default-deny",
                    "ReferenceGrant/allow-model-routes",
                    "ResourceQuota/model-version",
                    "Role/pipelines-deployer",
                    "RoleBinding/pipelines-deployer",
                    "Service/model-server",
                    "ServiceAccount/model-server",
                ],
                namespace,
            );
        }
    });

    it("sets the ResourceQuota from the stack's quotaDefaults, overridden per version", () => {
        const hard = (ns: string) => objectsOfKind(plan, "ResourceQuota", ns)[0].spec.hard;
        // Pulumi.dev.yaml quotaDefaults: cpu 4, memory 16Gi, gpu 1, pods 10, storage 20Gi.
        assert.deepEqual(hard("iris-v1"), {
            "requests.cpu": "4",
            "requests.memory": "16Gi",
            "limits.memory": "16Gi",
            "requests.nvidia.com/gpu": "1",
            pods: "10",
            "requests.storage": "20Gi",
        });
        assert.deepEqual(hard("digits-v1"), {
            "requests.cpu": "2",
            "requests.memory": "16Gi",
            "limits.memory": "16Gi",
            "requests.nvidia.com/gpu": "1",
            pods: "4",
            "requests.storage": "20Gi",
        });
    });

    it("gives containers CPU/memory defaults only, never a GPU default or max", () => {
        for (const { namespace } of VERSIONS) {
            const [lr] = objectsOfKind(plan, "LimitRange", namespace);
            assert.equal(lr.spec.limits.length, 1);
            const limit = lr.spec.limits[0];
            assert.equal(limit.type, "Container");
            assert.deepEqual(Object.keys(limit.defaultRequest).sort(), ["cpu", "memory"]);
            assert.deepEqual(Object.keys(limit.default).sort(), ["memory"]);
            assert.ok(!JSON.stringify(lr).includes("gpu"), `${namespace}: the LimitRange must not mention GPUs`);
        }
    });

    it("records replicas, GPUs, the artifact prefix and what the identity needs on pods on the namespace for the deploy pipeline", () => {
        const ns = objectsOfKind(plan, "Namespace").find((o) => o.metadata.name === "iris-v2")!;
        assert.deepEqual(ns.metadata.annotations, {
            "mlops-testbed/replicas": "1",
            "mlops-testbed/gpu": "1",
            // A GPU version: no surge pod (the quota has GPUs for the replicas only), the HPA capped at them.
            "mlops-testbed/max-replicas": "1",
            "mlops-testbed/max-surge": "0",
            "mlops-testbed/pod-resources": JSON.stringify(MODEL_SERVER_RESOURCES),
            "mlops-testbed/artifact-prefix": "models/iris/v2/",
            "mlops-testbed/pod-labels": "{}",
            "mlops-testbed/pod-env-from": "[]",
        });
    });

    it("gives the deployer the same settings in a ConfigMap it may read (it may not read Namespaces)", () => {
        for (const { namespace } of VERSIONS) {
            const ns = objectsOfKind(plan, "Namespace").find((o) => o.metadata.name === namespace)!;
            const cms = objectsOfKind(plan, "ConfigMap", namespace).filter(
                (o) => o.metadata.name === DEPLOY_SETTINGS.configMap,
            );
            assert.equal(cms.length, 1, `${namespace} has one ${DEPLOY_SETTINGS.configMap}`);
            const K = DEPLOY_SETTINGS.keys;
            const A = NAMESPACE_ANNOTATIONS;
            const a = ns.metadata.annotations!;
            assert.deepEqual(cms[0].data, {
                [K.replicas]: a[A.replicas],
                [K.gpu]: a[A.gpu],
                [K.maxReplicas]: a[A.maxReplicas],
                [K.maxSurge]: a[A.maxSurge],
                [K.podResources]: a[A.podResources],
                [K.artifactPrefix]: a[A.artifactPrefix],
                [K.podLabels]: a[A.podLabels],
                [K.podEnvFrom]: a[A.podEnvFrom],
            });
        }
        const readsSettings = DEPLOYER_RULES.some(
            (r) =>
                (r.apiGroups as string[] | undefined)?.includes("") &&
                (r.resources as string[]).includes("configmaps") &&
                (r.verbs as string[]).includes("get") &&
                (r.resourceNames as string[] | undefined)?.includes(DEPLOY_SETTINGS.configMap),
        );
        assert.ok(readsSettings, "the deployer Role may get the deploy-settings ConfigMap by name");
    });

    it("creates the model-server Service with the contract ports, selecting the model-server pods", () => {
        for (const { namespace } of VERSIONS) {
            const [svc] = objectsOfKind(plan, "Service", namespace);
            assert.equal(svc.metadata.name, MODEL_SERVER.name);
            assert.equal(svc.spec.type, "ClusterIP");
            assert.deepEqual(svc.spec.selector, MODEL_SERVER.podLabels);
            assert.deepEqual(
                svc.spec.ports.map((p: Json) => [p.name, p.port, p.targetPort]),
                [
                    ["http", MODEL_SERVER_PORTS.http, MODEL_SERVER_PORTS.http],
                    ["metrics", MODEL_SERVER_PORTS.metrics, MODEL_SERVER_PORTS.metrics],
                ],
            );
        }
    });

    it("binds the model-server ServiceAccount to a cloud identity through the platform, without an API token", () => {
        for (const { namespace } of VERSIONS) {
            const [sa] = objectsOfKind(plan, "ServiceAccount", namespace);
            assert.equal(sa.metadata.name, MODEL_SERVER.serviceAccount);
            assert.equal(sa.automountServiceAccountToken, false);
            assert.match(
                sa.metadata.annotations?.["eks.amazonaws.com/role-arn"] ?? "",
                /^arn:aws:iam::\d{12}:role\//,
                namespace,
            );
        }
    });

    describe("cloud identity scope (rendered IAM policy, AWS)", () => {
        const policyOf = (model: string, version: string) => {
            const role = findResource(plan, "mlops-testbed:aws:IrsaRole", `aws-model-${model}-${version}-identity`);
            const kids = descendantsOf(plan, role.urn);
            const policy = kids.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy")!;
            const trust = kids.find((r) => r.type === "aws:iam/role:Role")!;
            return { policy: jsonInput(policy, "policy"), trust: jsonInput(trust, "assumeRolePolicy") };
        };

        for (const { model, version, namespace } of VERSIONS) {
            it(`${namespace} may only read models/${model}/${version}/ in the models store`, () => {
                const { policy, trust } = policyOf(model, version);
                const prefix = `models/${model}/${version}/`;
                for (const s of policy.Statement as Json[]) {
                    const actions: string[] = s.Action;
                    assert.ok(
                        actions.every((a) => !/Put|Delete|Write|\*/.test(a)),
                        `write or wildcard action in ${JSON.stringify(s)}`,
                    );
                    if (actions.some((a) => a.startsWith("s3:Get"))) {
                        assert.match(s.Resource, new RegExp(`^arn:aws:s3:::[^/]+/${prefix}\\*$`));
                        assert.match(s.Resource, /models/);
                    }
                    if (actions.includes("s3:ListBucket"))
                        assert.deepEqual(s.Condition, { StringLike: { "s3:prefix": [`${prefix}*`] } });
                }
                const buckets = new Set(
                    (policy.Statement as Json[])
                        .filter((s) => String(s.Resource).startsWith("arn:aws:s3"))
                        .map((s) => String(s.Resource).split("/")[0]),
                );
                assert.equal(buckets.size, 1, `one bucket only, got ${[...buckets].join(", ")}`);
                assert.ok([...buckets][0].includes("models"), "the models bucket, not datasets");
                const subs = Object.entries(trust.Statement[0].Condition.StringEquals)
                    .filter(([k]) => k.endsWith(":sub"))
                    .map(([, v]) => v);
                assert.deepEqual(subs, [`system:serviceaccount:${namespace}:model-server`]);
            });
        }

        it("gives each version its own role (no shared identity)", () => {
            const roles = VERSIONS.map(
                ({ model, version }) =>
                    findResource(plan, "mlops-testbed:aws:IrsaRole", `aws-model-${model}-${version}-identity`).urn,
            );
            assert.equal(new Set(roles).size, VERSIONS.length);
        });
    });

    describe("deployer RBAC", () => {
        it("binds the pipelines' deployer service account to a Role in each version namespace only", () => {
            const deployer = PIPELINE_SERVICE_ACCOUNTS.deployer;
            for (const { namespace } of VERSIONS) {
                const [rb] = objectsOfKind(plan, "RoleBinding", namespace);
                assert.deepEqual(rb.roleRef, {
                    apiGroup: "rbac.authorization.k8s.io",
                    kind: "Role",
                    name: "pipelines-deployer",
                });
                assert.deepEqual(rb.subjects, [
                    { kind: "ServiceAccount", name: deployer.name, namespace: deployer.namespace },
                ]);
            }
            const clusterBindings = [
                ...objectsOfKind(plan, "ClusterRoleBinding"),
                ...objectsOfKind(plan, "ClusterRole"),
            ];
            assert.ok(
                !JSON.stringify(clusterBindings).includes(`"${deployer.name}"`),
                "no cluster-wide grant for the deployer",
            );
        });

        it("lets it apply the model server (Deployment, HPA, PDB) by name and read its settings, nothing else", () => {
            const [role] = objectsOfKind(plan, "Role", "iris-v1");
            const can = (group: string, resource: string, verb: string, name: string) =>
                role.rules.some(
                    (r: Json) =>
                        r.apiGroups.includes(group) &&
                        r.resources.includes(resource) &&
                        r.verbs.includes(verb) &&
                        (!r.resourceNames || r.resourceNames.includes(name)),
                );
            for (const [g, res] of [
                ["apps", "deployments"],
                ["autoscaling", "horizontalpodautoscalers"],
                ["policy", "poddisruptionbudgets"],
            ]) {
                for (const verb of ["create", "patch"])
                    assert.ok(can(g, res, verb, "model-server"), `${verb} ${g}/${res}`);
                assert.ok(!can(g, res, "patch", "other"), `${g}/${res}: model-server only`);
                assert.ok(!can(g, res, "delete", "model-server"), `${g}/${res}: no delete`);
            }
            assert.ok(can("", "configmaps", "get", DEPLOY_SETTINGS.configMap));
            for (const [g, res] of [
                ["", "services"],
                ["", "configmaps"],
                ["", "secrets"],
                ["rbac.authorization.k8s.io", "roles"],
                ["rbac.authorization.k8s.io", "rolebindings"],
                ["", "serviceaccounts"],
                ["", "pods/exec"],
                ["monitoring.coreos.com", "servicemonitors"],
            ]) {
                assert.ok(
                    !can(g, res, "create", "x") && !can(g, res, "patch", "model-server"),
                    `must not change ${g}/${res}`,
                );
            }
            assert.ok(!JSON.stringify(role.rules).includes('"*"'), "no wildcards");
        });
    });

    it("passes the Kubernetes and Gateway API schemas for every rendered object", async function () {
        this.timeout(60_000);
        const objects = kubernetesResources(plan)
            .map(toObject)
            .filter((o) => !UNMODELLED_GROUPS.some((g) => o.apiVersion.startsWith(`${g}/`)));
        assert.ok(objects.length > 50);
        const errors = (await Promise.all(objects.map(schemaErrors))).filter((e) => e !== "");
        assert.deepEqual(errors, []);
    });

    it("uses the platform's explicit Kubernetes provider for every Kubernetes resource", () => {
        const provider = resourcesOfType(plan, "pulumi:providers:kubernetes").find((p) => p.name === "aws-k8s")!;
        for (const r of [...kubernetesResources(plan), ...resourcesOfType(plan, "kubernetes:helm.sh/v3:Release")]) {
            assert.ok(r.provider?.startsWith(`${provider.urn}::`), `${r.type} ${r.name} uses ${r.provider}`);
        }
    });

    it("outputs model → version → namespace and model → endpoint on the gateway", () => {
        assert.deepEqual(plan.outputs.modelNamespaces, {
            iris: { v1: "iris-v1", v2: "iris-v2", v3: "iris-v3" },
            digits: { v1: "digits-v1" },
            churn: { blue: "churn-blue", green: "churn-green" },
            fraud: { v1: "fraud-v1", v2: "fraud-v2", v3: "fraud-v3" },
        });
        assert.deepEqual(
            plan.outputs.modelEndpoints,
            Object.fromEntries(
                MODELS.map((m) => [m.name, `http://models-gateway.gateway.svc.cluster.local/models/${m.name}`]),
            ),
        );
    });
});

describe("adding and removing a model version", () => {
    const withIris = (versions: object[], weights: Record<string, number>) =>
        MODELS.map((m) => (m.name === "iris" ? { ...m, versions, traffic: { strategy: "canary", weights } } : m));
    let before3: Plan;
    let after2: Plan;
    let after4: Plan;
    before(async () => {
        before3 = await planStack("dev", { models: MODELS });
        after2 = await planStack("dev", {
            models: withIris([{ name: "v1" }, { name: "v2", gpu: 1 }], { v1: 80, v2: 20 }),
        });
        after4 = await planStack("dev", {
            models: withIris([{ name: "v1" }, { name: "v2", gpu: 1 }, { name: "v3" }, { name: "v4" }], {
                v1: 80,
                v2: 15,
                v3: 5,
            }),
        });
        stores = storeUrns(before3);
    });

    const byUrn = (p: Plan) => new Map(p.resources.map((r) => [r.urn, r]));
    const diff = (a: Plan, b: Plan) => {
        const A = byUrn(a);
        const B = byUrn(b);
        return {
            removed: [...A.values()].filter((r) => !B.has(r.urn)),
            added: [...B.values()].filter((r) => !A.has(r.urn)),
            changed: [...A.values()].filter(
                (r) => B.has(r.urn) && JSON.stringify(r.inputs) !== JSON.stringify(B.get(r.urn)!.inputs),
            ),
        };
    };
    const isIrisRoute = (r: PlannedResource) =>
        r.type.endsWith(":HTTPRoute") && r.name.startsWith("model-routing-route-iris-");
    /** The artifact store and everything under it (buckets, their policies, versioning, keys). */
    const storeUrns = (p: Plan) => {
        const stores = resourcesOfType(p, "mlops-testbed:aws:ArtifactStore");
        return new Set([
            ...stores.map((s) => s.urn),
            ...stores.flatMap((s) => descendantsOf(p, s.urn).map((r) => r.urn)),
        ]);
    };
    let stores: Set<string>;
    const isStore = (r: PlannedResource) => stores.has(r.urn) || /^aws:(s3|kms)\//.test(r.type);

    it("removing iris v3 removes only iris v3's resources (and rebuilds the iris route)", () => {
        const { removed, added, changed } = diff(before3, after2);
        const strays = removed.filter((r) => !r.name.includes("iris-v3") && !isIrisRoute(r));
        assert.deepEqual(
            strays.map((r) => r.urn),
            [],
        );
        assert.ok(
            removed.some(
                (r) =>
                    r.type === "kubernetes:core/v1:Namespace" &&
                    r.inputs.metadata &&
                    (r.inputs.metadata as Json).name === "iris-v3",
            ),
        );
        assert.ok(
            removed.some((r) => r.type === "aws:iam/role:Role"),
            "its cloud identity goes too",
        );
        assert.deepEqual(
            added.map((r) => r.type),
            ["kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"],
        );
        // The route's name changes with its shape: the pipelines' settings (MODEL_ROUTES) and the route updater's
        // resourceNames follow it; nothing else changes.
        assert.deepEqual(
            changed.map((r) => r.name),
            ["tekton-settings", "tekton-route-updater"],
        );
    });

    it("removing a version never touches the artifact store, so its artifacts stay", () => {
        const { removed, changed } = diff(before3, after2);
        assert.deepEqual(
            removed.filter(isStore).map((r) => r.urn),
            [],
        );
        assert.deepEqual(
            changed.filter(isStore).map((r) => r.urn),
            [],
        );
        assert.ok(
            before3.resources.filter(isStore).some((r) => r.type === "aws:s3/bucket:Bucket"),
            "the plan has the store buckets",
        );
        assert.deepEqual(
            [...storeUrns(after2)].sort(),
            [...stores].sort(),
            "the same store resources before and after",
        );
        // Nothing that holds artifacts is a child of a version's component, so deleting one cannot cascade to it.
        const versionComponents = resourcesOfType(before3, "mlops-testbed:models:ModelVersionNamespace");
        for (const c of versionComponents) assert.ok(!descendantsOf(before3, c.urn).some(isStore), c.name);
    });

    it("adding iris v4 adds only iris v4's resources (and rebuilds the iris route)", () => {
        const { removed, added, changed } = diff(before3, after4);
        assert.deepEqual(
            removed.map((r) => r.name),
            before3.resources.filter(isIrisRoute).map((r) => r.name),
        );
        const strays = added.filter((r) => !r.name.includes("iris-v4") && !isIrisRoute(r));
        assert.deepEqual(
            strays.map((r) => r.urn),
            [],
        );
        assert.ok(added.some((r) => r.type === "kubernetes:core/v1:Namespace"));
        // The route's name changes with its shape: the pipelines' settings (MODEL_ROUTES) and the route updater's
        // resourceNames follow it; nothing else changes.
        assert.deepEqual(
            changed.map((r) => r.name),
            ["tekton-settings", "tekton-route-updater"],
        );
        const route = after4.resources.find(isIrisRoute)!;
        const refs = (route.inputs.spec as Json).rules[0].backendRefs;
        assert.deepEqual(
            refs.map((b: Json) => [b.namespace, b.weight]),
            [
                ["iris-v1", 80],
                ["iris-v2", 15],
                ["iris-v3", 5],
                ["iris-v4", 0],
            ],
        );
    });
});
