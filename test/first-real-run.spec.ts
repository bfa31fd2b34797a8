/**
 * What a first `pulumi up` and pipeline run need that the plan must show: NetworkPolicies enforced and node
 * credentials out of pods' reach on EKS, a volume for every claim on every platform, metrics for every HPA, IAM
 * role names within IAM's limit at the schema's longest names, rollouts that fit the namespace quota, registries a
 * build pod can reach, and namespaces a model version can never take.
 */
import * as assert from "node:assert/strict";
import { CHARTS, EKS_ADDONS } from "../contract/versions";
import { RESERVED_NAMESPACES, quotaDefaultsSchema, modelVersionSchema, rolloutPlan } from "../contract/config/models";
import { IAM_ROLE_NAME_MAX } from "../components/aws/workload-identity";
import { AWS_STORAGE_CLASS, EBS_CSI_MANAGED_POLICY } from "../components/aws/platform";
import { AZURE_STORAGE_CLASS } from "../components/azure/platform";
import { DEPLOY_SETTINGS, PIPELINES_NAMESPACE } from "../contract/names";
import { SETTINGS_CONFIGMAP } from "../pipelines/core/context";
import type { Plan } from "../tools/mock-runtime";
import { issueAt, jsonInput, planConfigIssues, planStack, resourcesOfType } from "./harness";
import { kubernetesResources, objectsOfKind, toObject, type K8sObject } from "./k8s-objects";
import type { Json } from "./json";
import { chartFactsOf, unknownValueKeys } from "./upstream-facts";

const T = {
    eks: "eks:index:Cluster",
    nodeGroup: "aws:eks/nodeGroup:NodeGroup",
    launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
    addon: "aws:eks/addon:Addon",
    role: "aws:iam/role:Role",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    attachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    release: "kubernetes:helm.sh/v3:Release",
} as const;

const plans: Record<string, Plan> = {};
before(async function () {
    this.timeout(240_000);
    for (const stack of ["dev", "azure-example", "existing-example"]) plans[stack] = await planStack(stack);
});

/** Every PersistentVolumeClaim the plan makes or templates: StatefulSet-style templates in values and runs. */
function claimClasses(plan: Plan): { where: string; storageClassName: string | undefined }[] {
    const out: { where: string; storageClassName: string | undefined }[] = [];
    const walk = (v: unknown, where: string) => {
        if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${where}[${i}]`));
        else if (v && typeof v === "object") {
            for (const [k, x] of Object.entries(v)) {
                if (k === "volumeClaimTemplate")
                    out.push({ where: `${where}.${k}`, storageClassName: (x as Json)?.spec?.storageClassName });
                else walk(x, `${where}.${k}`);
            }
        }
    };
    for (const r of plan.resources) walk(r.inputs, `${r.type} ${r.name}`);
    return out;
}

describe("first real run: EKS network policy and node metadata (dev)", () => {
    it("the VPC CNI enforces NetworkPolicies", () => {
        const [eks] = resourcesOfType(plans.dev, T.eks);
        assert.equal((eks.inputs.vpcCniOptions as Json)?.enableNetworkPolicy, true);
    });

    it("every node group and the NAT instance launch with IMDSv2 and a hop limit of 1, disks in the launch template", () => {
        const groups = resourcesOfType(plans.dev, T.nodeGroup);
        const templates = resourcesOfType(plans.dev, T.launchTemplate);
        assert.deepEqual(
            groups.map((g) => g.name),
            ["aws-system-ng", "aws-system-fallback-ng", "aws-gpu-t4-ng"],
            "system, its on-demand fallback, and t4",
        );
        assert.deepEqual(
            templates.map((t) => t.name).sort(),
            [...groups.map((g) => g.name.replace(/-ng$/, "-lt")), "aws-network-nat-0-lt"].sort(),
        );
        for (const g of groups) {
            assert.ok(g.inputs.launchTemplate, `${g.name} uses a launch template`);
            assert.equal(g.inputs.diskSize, undefined, `${g.name}: the disk comes from the template`);
        }
        const diskSize = {
            "aws-system-lt": 20,
            "aws-system-fallback-lt": 20,
            "aws-gpu-t4-lt": 100,
            "aws-network-nat-0-lt": 8,
        };
        for (const t of templates) {
            assert.deepEqual(t.inputs.metadataOptions, {
                httpEndpoint: "enabled",
                httpTokens: "required",
                httpPutResponseHopLimit: 1,
            });
            const [root] = t.inputs.blockDeviceMappings as Json[];
            assert.equal(root.ebs.encrypted, "true");
            assert.equal(root.ebs.volumeSize, diskSize[t.name as keyof typeof diskSize], `${t.name}: its diskSizeGiB`);
        }
    });
});

describe("first real run: an image build cannot fill dev's system disk", () => {
    it("build-image's buildah step (storage in its writable layer) is limited to under half the system disk", () => {
        const [task] = objectsOfKind(plans.dev, "Task").filter((o) => o.metadata.name === "build-image");
        assert.ok(task, "the dev plan has the build-image Task");
        const step = ((task as Json).spec.steps as Json[]).find((s) => s.name === "build-push");
        const { requests, limits } = step.computeResources as Json;
        const gib = (q: string) => Number(/^(\d+)Gi$/.exec(q)![1]);
        const [systemTemplate] = resourcesOfType(plans.dev, T.launchTemplate).filter((t) => t.name === "aws-system-lt");
        const diskGiB = (systemTemplate.inputs.blockDeviceMappings as Json[])[0].ebs.volumeSize as number;
        assert.ok(gib(requests["ephemeral-storage"]) > 0);
        assert.ok(gib(limits["ephemeral-storage"]) >= gib(requests["ephemeral-storage"]));
        assert.ok(
            gib(limits["ephemeral-storage"]) <= diskGiB / 2,
            `limit ${limits["ephemeral-storage"]}, disk ${diskGiB} GiB`,
        );
    });
});

describe("first real run: every claim names a storage class that exists on its platform", () => {
    it("EKS: the EBS CSI add-on, pinned, with its own IRSA role, and a default encrypted gp3 class", () => {
        const [addon] = resourcesOfType(plans.dev, T.addon);
        assert.equal(addon.inputs.addonName, "aws-ebs-csi-driver");
        assert.equal(addon.inputs.addonVersion, EKS_ADDONS.ebsCsiDriver.version);
        const role = resourcesOfType(plans.dev, T.role).find((r) => r.name.includes("ebs-csi"))!;
        const trust = JSON.stringify(jsonInput(role, "assumeRolePolicy"));
        assert.match(trust, /system:serviceaccount:kube-system:ebs-csi-controller-sa/);
        const attachments = resourcesOfType(plans.dev, T.attachment).filter((a) => a.name.includes("ebs-csi"));
        assert.deepEqual(
            attachments.map((a) => a.inputs.policyArn),
            [EBS_CSI_MANAGED_POLICY],
        );
        // dev uses aws/ebs (aws.encryptionKeys: aws-managed), which the managed policy covers: no inline policy
        // (prod's, on its own volumes key: components/aws/platform.spec.ts).
        assert.deepEqual(
            resourcesOfType(plans.dev, T.rolePolicy).filter((p) => p.name.includes("ebs-csi")),
            [],
        );
        const [sc] = objectsOfKind(plans.dev, "StorageClass");
        assert.equal(sc.metadata.name, AWS_STORAGE_CLASS);
        assert.equal(sc.metadata.annotations?.["storageclass.kubernetes.io/is-default-class"], "true");
        assert.equal(sc.provisioner, "ebs.csi.aws.com");
        assert.equal(sc.parameters.type, "gp3");
        assert.equal(sc.parameters.encrypted, "true");
        assert.equal(sc.parameters.kmsKeyId, undefined, "dev: encrypted with aws/ebs");
    });

    const expected: Record<string, string | undefined> = {
        dev: AWS_STORAGE_CLASS,
        "azure-example": AZURE_STORAGE_CLASS,
        "existing-example": undefined,
    };
    for (const [stack, cls] of Object.entries(expected))
        it(`${stack}: Prometheus, Alertmanager and the runs' workspaces claim ${cls ?? "the cluster's default class"}`, () => {
            const claims = claimClasses(plans[stack]);
            const where = claims.map((c) => c.where).join("\n");
            assert.match(where, /prometheusSpec\.storageSpec\.volumeClaimTemplate/);
            assert.match(where, /alertmanagerSpec\.storage\.volumeClaimTemplate/);
            assert.match(where, /TriggerTemplate|triggers/i);
            for (const c of claims) assert.equal(c.storageClassName, cls, c.where);
        });

    it("existing: existing.storageClass names every claim's class", async () => {
        const plan = await planStack("existing-example", {
            existing: { imageRegistry: "registry.example.com/mlops/model-server", storageClass: "local-path" },
        });
        const claims = claimClasses(plan);
        assert.ok(claims.length >= 3);
        for (const c of claims) assert.equal(c.storageClassName, "local-path", c.where);
    });
});

describe("first real run: metrics-server where the platform has none", () => {
    const metricsServer = (plan: Plan) =>
        resourcesOfType(plan, T.release).filter((r) => r.inputs.chart === CHARTS.metricsServer.chart);

    it("EKS and existing clusters install the pinned chart; AKS, which runs one, does not", () => {
        for (const stack of ["dev", "existing-example"]) {
            const [release] = metricsServer(plans[stack]);
            assert.ok(release, stack);
            assert.equal(release.inputs.version, CHARTS.metricsServer.version);
            assert.equal(release.inputs.namespace, "kube-system");
        }
        assert.equal(metricsServer(plans["azure-example"]).length, 0);
        // kind's kubelets serve self-signed certificates: the example says so.
        assert.deepEqual((metricsServer(plans["existing-example"])[0].inputs.values as Json).args, [
            "--kubelet-insecure-tls",
        ]);
        assert.equal((metricsServer(plans.dev)[0].inputs.values as Json).args, undefined);
    });

    it("sets only Helm values that exist in the pinned chart (test/facts)", () => {
        const keys = chartFactsOf(CHARTS.metricsServer).keys;
        for (const stack of ["dev", "existing-example"]) {
            const values = metricsServer(plans[stack])[0].inputs.values as Record<string, unknown>;
            assert.ok(Object.keys(values).length >= 3, stack);
            assert.deepEqual(unknownValueKeys(values, [keys]), [], stack);
        }
        // The check finds a misspelt key.
        assert.deepEqual(unknownValueKeys({ tolerations: [], nodeSelectors: {} }, [keys]), ["nodeSelectors"]);
    });

    it("existing.metricsServer: present installs none", async () => {
        const plan = await planStack("existing-example", {
            existing: { imageRegistry: "registry.example.com/mlops/model-server", metricsServer: "present" },
        });
        assert.equal(metricsServer(plan).length, 0);
    });
});

describe("first real run: IAM role names at the schema's longest model and version names", () => {
    it("every role has an explicit name of at most 64 characters, unique in the stack", async function () {
        this.timeout(120_000);
        const model = "m".repeat(30);
        const plan = await planStack("dev", {
            models: [
                {
                    name: model,
                    versions: [{ name: "v".repeat(30) }, { name: `${"w".repeat(29)}2` }],
                    traffic: { strategy: "canary", weights: { ["v".repeat(30)]: 100 } },
                },
            ],
        });
        const roles = resourcesOfType(plan, T.role);
        assert.ok(
            roles.some((r) => r.name.includes("v".repeat(30))),
            "the long version has a role",
        );
        for (const r of roles) {
            const name = r.inputs.name as string | undefined;
            if (r.name.endsWith("-node-role")) continue; // a short fixed Pulumi name, auto-suffixed: 20 characters
            assert.equal(typeof name, "string", `${r.name} has an explicit name`);
            assert.ok(name!.length <= IAM_ROLE_NAME_MAX, `${name} (${name!.length})`);
            assert.match(name!, /^[\w+=,.@-]+$/);
        }
        const names = roles.map((r) => r.inputs.name).filter(Boolean);
        assert.equal(new Set(names).size, names.length, "unique");
        const node = roles.find((r) => r.name.endsWith("-node-role"))!;
        assert.ok(`${node.name}-1234567`.length <= IAM_ROLE_NAME_MAX);
    });
});

describe("first real run: rollouts fit the namespace quota", () => {
    const defaults = quotaDefaultsSchema.parse({ cpu: "4", memory: "16Gi", gpu: 1, pods: 10 });
    const v = (o: Record<string, unknown>) => modelVersionSchema.parse({ name: "v1", ...o });

    it("a GPU version replaces pods one at a time and its HPA stops at the GPUs the quota admits", () => {
        assert.deepEqual(rolloutPlan(v({ gpu: 1 }), defaults), { maxSurge: 0, maxReplicas: 1 });
        assert.deepEqual(rolloutPlan(v({ gpu: 1, replicas: 2, quota: { gpu: 4 } }), defaults), {
            maxSurge: 0,
            maxReplicas: 4,
        });
    });

    it("a CPU version surges while the quota has room for one pod more, and its HPA leaves that room", () => {
        // 4 CPU / 250m = 16 pods, 16Gi / 1Gi memory limit = 16, pods 10: 10 admitted, 9 with the surge pod's room.
        assert.deepEqual(rolloutPlan(v({ replicas: 3 }), defaults), { maxSurge: 1, maxReplicas: 9 });
        assert.deepEqual(rolloutPlan(v({ replicas: 1 }), defaults), { maxSurge: 1, maxReplicas: 3 });
        assert.deepEqual(rolloutPlan(v({ replicas: 2, quota: { pods: 2 } }), defaults), {
            maxSurge: 0,
            maxReplicas: 2,
        });
    });

    it("dev: the deploy settings carry the plan (iris v2 on a GPU: no surge, HPA 1..1)", () => {
        const cm = objectsOfKind(plans.dev, "ConfigMap", "iris-v2").find(
            (o) => o.metadata.name === DEPLOY_SETTINGS.configMap,
        )!;
        assert.equal(cm.data["max-surge"], "0");
        assert.equal(cm.data["max-replicas"], "1");
        assert.deepEqual(Object.keys(JSON.parse(cm.data["pod-resources"])).sort(), ["fetcher", "server"]);
    });

    it("refuses versions whose replicas do not fit, every dimension at once, even a single replica", async () => {
        const issues = await planConfigIssues("dev", {
            quotaDefaults: { cpu: "500m", memory: "1Gi", gpu: 1, pods: 10, storage: "20Gi" },
            models: [
                {
                    name: "big",
                    versions: [
                        { name: "v1", replicas: 3 },
                        { name: "v2", gpu: 2 },
                    ],
                    traffic: { strategy: "canary", weights: { v1: 50, v2: 50 } },
                },
            ],
        });
        issueAt(
            issues,
            "mlops-testbed:models[0].versions[0].replicas",
            /3 replicas × 250m CPU request exceed the namespace CPU request quota of 500m; raise versions\[0\]\.quota\.cpu or quotaDefaults\.cpu/,
        );
        issueAt(
            issues,
            "mlops-testbed:models[0].versions[0].replicas",
            /3 replicas × 1Gi memory limit exceed the namespace memory limit quota of 1Gi/,
        );
        issueAt(
            issues,
            "mlops-testbed:models[0].versions[1].gpu",
            /1 replicas × 2 GPU exceed the namespace GPU quota of 1/,
        );
    });
});

describe("first real run: existing clusters' registry reachable from a build pod", () => {
    it("the example pushes to kind's registry at its in-cluster address over HTTP, and the build step is told so", () => {
        const settings = objectsOfKind(plans["existing-example"], "ConfigMap", PIPELINES_NAMESPACE).find(
            (o) => o.metadata.name === SETTINGS_CONFIGMAP,
        )!;
        assert.equal(settings.data.IMAGE_REPOSITORY, "kind-registry:5000/model-server");
        assert.equal(settings.data.REGISTRY_TLS, "http");
        for (const stack of ["dev", "azure-example"]) {
            const s = objectsOfKind(plans[stack], "ConfigMap", PIPELINES_NAMESPACE).find(
                (o) => o.metadata.name === SETTINGS_CONFIGMAP,
            )!;
            assert.equal(s.data.REGISTRY_TLS, "verify", stack);
        }
    });

    it("refuses a loopback registry and an unknown TLS mode, naming the key and what is allowed", async () => {
        const issues = await planConfigIssues("existing-example", {
            existing: { imageRegistry: "localhost:5001/model-server", registryTls: "insecure" },
        });
        issueAt(issues, "mlops-testbed:existing.imageRegistry", /loopback address.*kind-registry:5000\/model-server/);
        issueAt(issues, "mlops-testbed:existing.registryTls", /one of verify, skip-verify, http/);
    });
});

describe("first real run: namespaces a model version can never take", () => {
    it("refuses object-store (the existing platform's store) and every other reserved name, listing them", async () => {
        const issues = await planConfigIssues("dev", {
            models: [{ name: "object", versions: [{ name: "store" }] }],
        });
        const issue = issueAt(
            issues,
            "mlops-testbed:models[0].versions[0].name",
            /namespace "object-store" is reserved/,
        );
        for (const ns of RESERVED_NAMESPACES) assert.ok(issue.message.includes(ns), ns);
    });

    it("every namespace any stack's plan creates or installs into is reserved (or kube-*), besides model namespaces", () => {
        for (const [stack, plan] of Object.entries(plans)) {
            const objects: K8sObject[] = kubernetesResources(plan).map(toObject);
            const models = new Set(
                objects
                    .filter((o) => o.kind === "Namespace" && o.metadata.labels?.["mlops-testbed/model"])
                    .map((o) => o.metadata.name as string),
            );
            const used = new Set<string>([
                ...objects.filter((o) => o.kind === "Namespace").map((o) => o.metadata.name as string),
                ...objects.map((o) => o.metadata.namespace).filter((n): n is string => !!n),
                ...resourcesOfType(plan, T.release).map((r) => r.inputs.namespace as string),
            ]);
            for (const ns of used) {
                if (models.has(ns) || ns.startsWith("kube-")) continue;
                assert.ok(RESERVED_NAMESPACES.includes(ns), `${stack}: namespace ${ns} is not reserved`);
            }
        }
    });
});
