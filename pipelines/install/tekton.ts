import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
    KUBE_STEP_PYTHONPATH,
    LIB_CONFIGMAP,
    LIB_PACKAGE,
    LIB_PATH,
    SETTINGS_CONFIGMAP,
    libraryFiles,
    libraryVolume,
    type CredentialsSecrets,
    type PodLabelsByRole,
    type SettingsKey,
} from "../core/context";
import { PIPELINE_NAMES, renderPipelines, renderTasks, type PipelineDefaults } from "..";
import type { PipelinesConfig } from "../../contract/config/pipelines";
import { TEKTON } from "../../contract/versions";
import type { ClusterAddons, Platform, StoreGrant } from "../../contract/platform";
import {
    GATEWAY_NAMESPACE,
    MONITORING_NAMESPACE,
    PART_OF,
    PIPELINES_NAMESPACE,
    PIPELINE_SERVICE_ACCOUNTS,
} from "../../contract/names";
import { PUSHGATEWAY_URL } from "../../contract/names";
import { PRUNER_RULES, routeUpdaterRules } from "./rbac";
import { StepRuntime } from "./step-runtime";

export interface TektonArgs {
    /** The stack's `pipelines` config: run retention and the gate's defaults. */
    readonly config: PipelinesConfig;
    /** Provider, scheduling, store, registry and workload identity. */
    readonly platform: Pick<
        Platform,
        "systemScheduling" | "gpuScheduling" | "artifactStore" | "imageRegistry" | "bindWorkloadIdentity"
    >;
    /** Wait for these before installing (nodes able to run pods). */
    readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
    /** The monitoring stack, whose CRDs (ServiceMonitor) the controller's scrape config needs. */
    readonly monitoringReady: pulumi.Input<pulumi.Resource>[];
    /** The gateway namespace, where the deployer may update model routes. */
    readonly gatewayReady: pulumi.Input<pulumi.Resource>[];
    /**
     * Name of each model's HTTPRoute (model → route name; `routeName` of model-routing.ts). The steps find a model's
     * route here (setting MODEL_ROUTES), and the deployer may read and patch these routes and no other.
     */
    readonly modelRoutes: Readonly<Record<string, string>>;
    /** Storage class of the runs' workspace claims (the platform's), or null for the cluster's default. */
    readonly storageClass?: string | null;
    /**
     * Tekton Pipelines and Triggers: `install` (the pinned release manifests) or `present` (they run already, the
     * Pipelines controller in the given namespace).
     */
    readonly tekton: ClusterAddons["tekton"];
}

/**
 * config-observability entries: run and task durations as histograms labelled by pipeline and task (the CI/CD
 * dashboard and rules need those labels; test/facts/metrics/tekton-pipelines-controller-*.json lists them).
 */
export const OBSERVABILITY = {
    "metrics.pipelinerun.level": "pipeline",
    "metrics.pipelinerun.duration-type": "histogram",
    "metrics.taskrun.level": "task",
    "metrics.taskrun.duration-type": "histogram",
} as const;

/** What the store grants each pipeline identity: trainer reads datasets and reads/writes models/ (baselines, new versions). */
export const PIPELINE_GRANTS: Record<
    keyof typeof PIPELINE_SERVICE_ACCOUNTS,
    { grants: StoreGrant[]; registryPush: boolean } | null
> = {
    trainer: {
        grants: [
            { store: "datasets", prefix: "", access: "read" },
            { store: "models", prefix: "models/", access: "read-write" },
        ],
        registryPush: false,
    },
    builder: { grants: [], registryPush: true },
    deployer: null,
};

/** ServiceMonitor for the Tekton Pipelines controller's metrics (Service `tekton-pipelines-controller`, port 9090). */
export function controllerServiceMonitor(controllerNamespace: string = TEKTON.pipelines.namespace) {
    return {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "ServiceMonitor",
        metadata: {
            name: "tekton-pipelines-controller",
            namespace: MONITORING_NAMESPACE,
            labels: { "app.kubernetes.io/part-of": PART_OF },
        },
        spec: {
            namespaceSelector: { matchNames: [controllerNamespace] },
            selector: {
                matchLabels: {
                    "app.kubernetes.io/name": "controller",
                    "app.kubernetes.io/part-of": "tekton-pipelines",
                },
            },
            endpoints: [{ port: "http-metrics", path: "/metrics", interval: "30s", honorLabels: true }],
        },
    };
}

/**
 * Tekton Pipelines and Triggers from their pinned release manifests, config-observability set for per-pipeline and
 * per-task duration histograms, the controller scraped by Prometheus; the `pipelines` namespace with the trainer,
 * builder and deployer service accounts (cloud identities through the Platform), the settings and library the steps
 * read, every Task and Pipeline, and a CronJob pruning finished runs.
 */
export class Tekton extends pulumi.ComponentResource {
    readonly namespace: k8s.core.v1.Namespace;
    /** The Pipelines and Triggers installs (their CRDs, interceptors and roles) to wait for: none when present. */
    readonly installs: pulumi.Resource[];
    readonly pipelineNames: string[];
    readonly identities: Record<string, pulumi.Output<string>>;

    constructor(name: string, args: TektonArgs, opts?: pulumi.ComponentResourceOptions) {
        // The type the component had in components/k8s: the alias keeps the URNs of stacks deployed before the move.
        super(
            "mlops-testbed:pipelines:Tekton",
            name,
            {},
            {
                ...opts,
                aliases: [...(opts?.aliases ?? []), { type: "mlops-testbed:k8s:Tekton" }],
            },
        );
        const { platform, config } = args;
        const parent = { parent: this };
        const labels = { "app.kubernetes.io/part-of": PART_OF };

        // Present: the cluster runs Pipelines and Triggers already (docs/existing-cluster.md says which versions).
        const pipelinesInstall =
            args.tekton.mode === "install"
                ? new k8s.yaml.v2.ConfigFile(
                      `${name}-pipelines`,
                      { file: TEKTON.pipelines.manifests[0] },
                      { ...parent, dependsOn: args.dependsOn },
                  )
                : undefined;
        const triggers = pipelinesInstall
            ? TEKTON.triggers.manifests.map(
                  (file, i) =>
                      new k8s.yaml.v2.ConfigFile(
                          `${name}-triggers-${i === 0 ? "release" : "interceptors"}`,
                          { file },
                          { ...parent, dependsOn: [pipelinesInstall] },
                      ),
              )
            : [];
        this.installs = pipelinesInstall ? [pipelinesInstall] : [];
        const controllerNamespace = args.tekton.mode === "present" ? args.tekton.namespace : TEKTON.pipelines.namespace;

        // The release ships config-observability with only `metrics-protocol` and `_example`; a server-side-apply
        // patch owns just the keys below, so re-applying the release (an upgrade) never removes them. The version
        // annotation makes an upgrade re-apply the patch after the new manifest.
        new k8s.core.v1.ConfigMapPatch(
            `${name}-observability`,
            {
                metadata: {
                    name: "config-observability",
                    namespace: controllerNamespace,
                    annotations: {
                        "pulumi.com/patchForce": "true",
                        "mlops-testbed/tekton-version": TEKTON.pipelines.version,
                    },
                },
                data: { ...OBSERVABILITY },
            },
            { ...parent, dependsOn: pipelinesInstall ? [pipelinesInstall] : args.dependsOn },
        );

        new k8s.apiextensions.CustomResource(
            `${name}-controller-metrics`,
            controllerServiceMonitor(controllerNamespace),
            {
                ...parent,
                dependsOn: args.monitoringReady,
            },
        );

        this.namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            {
                metadata: {
                    name: PIPELINES_NAMESPACE,
                    // baseline: steps run as root in pinned public images (pip, buildah); nothing privileged.
                    labels: {
                        ...labels,
                        "pod-security.kubernetes.io/enforce": "baseline",
                        "pod-security.kubernetes.io/warn": "restricted",
                    },
                },
            },
            { ...parent, dependsOn: args.dependsOn },
        );
        const inNs = { ...parent, dependsOn: [this.namespace] };
        const meta = (n: string) => ({ name: n, namespace: PIPELINES_NAMESPACE, labels });

        this.identities = {};
        // Platforms without token-based identity hand out a credentials Secret per service account; every step of
        // that role's Tasks loads it (stepTemplate envFrom, pipelines/core/context.ts).
        const credentialOutputs: Partial<Record<keyof typeof PIPELINE_SERVICE_ACCOUNTS, pulumi.Output<string>>> = {};
        // Labels the identity needs on the role's pods (AKS workload identity) go on the role's Tasks, which Tekton
        // copies to every TaskRun pod (PodLabelsByRole, pipelines/core/context.ts).
        const podLabels: PodLabelsByRole = {};
        const serviceAccounts: k8s.core.v1.ServiceAccount[] = [];
        for (const [role, sa] of Object.entries(PIPELINE_SERVICE_ACCOUNTS) as [
            keyof typeof PIPELINE_SERVICE_ACCOUNTS,
            (typeof PIPELINE_SERVICE_ACCOUNTS)[keyof typeof PIPELINE_SERVICE_ACCOUNTS],
        ][]) {
            const scope = PIPELINE_GRANTS[role];
            const binding = scope
                ? platform.bindWorkloadIdentity(`pipelines-${role}`, {
                      namespace: this.namespace.metadata.name,
                      serviceAccount: sa.name,
                      grants: scope.grants,
                      registryPush: scope.registryPush,
                  })
                : undefined;
            if (binding) this.identities[role] = binding.identity;
            if (binding?.credentialsSecret) credentialOutputs[role] = binding.credentialsSecret;
            if (binding && Object.keys(binding.podLabels).length > 0) podLabels[role] = binding.podLabels;
            const account = new k8s.core.v1.ServiceAccount(
                `${name}-sa-${role}`,
                {
                    metadata: { ...meta(sa.name), annotations: binding?.serviceAccountAnnotations ?? {} },
                    // Only the deployer talks to the Kubernetes API.
                    automountServiceAccountToken: role === "deployer",
                },
                inNs,
            );
            serviceAccounts.push(account);
        }

        const deployer = PIPELINE_SERVICE_ACCOUNTS.deployer;
        const routeRole = new k8s.rbac.v1.Role(
            `${name}-route-updater`,
            {
                metadata: { name: "pipelines-route-updater", namespace: GATEWAY_NAMESPACE, labels },
                rules: routeUpdaterRules(Object.values(args.modelRoutes)),
            },
            { ...parent, dependsOn: args.gatewayReady },
        );
        new k8s.rbac.v1.RoleBinding(
            `${name}-route-updater`,
            {
                metadata: { name: "pipelines-route-updater", namespace: GATEWAY_NAMESPACE, labels },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: routeRole.metadata.name },
                subjects: [{ kind: "ServiceAccount", name: deployer.name, namespace: deployer.namespace }],
            },
            { ...parent, dependsOn: args.gatewayReady },
        );

        const store = platform.artifactStore;
        const gpu = platform.gpuScheduling;
        const settings: Record<SettingsKey, pulumi.Input<string>> = {
            STORE_KIND: store.kind,
            MODELS_BUCKET: store.modelsBucket,
            DATASETS_BUCKET: store.datasetsBucket,
            STORE_ENDPOINT: store.endpoint ?? "",
            STORE_REGION: store.region ?? "",
            AWS_REGION: store.region ?? "",
            IMAGE_REPOSITORY: platform.imageRegistry.repositoryUrl,
            PUSHGATEWAY_URL,
            GPU_NODE_SELECTOR: JSON.stringify(gpu.nodeSelector),
            GPU_TOLERATIONS: JSON.stringify(gpu.tolerations),
            REGISTRY_TLS: platform.imageRegistry.tls,
            REGISTRY_LOGIN: platform.imageRegistry.login,
            MODEL_ROUTES: JSON.stringify(args.modelRoutes),
        };
        const settingsMap = new k8s.core.v1.ConfigMap(
            `${name}-settings`,
            { metadata: meta(SETTINGS_CONFIGMAP), data: settings },
            inNs,
        );
        const lib = libraryVolume("lib").configMap!;
        const prunerLibrary = { name: "lib", configMap: { name: lib.name, items: [...(lib.items ?? [])] } };
        const library = new k8s.core.v1.ConfigMap(
            `${name}-library`,
            { metadata: meta(LIB_CONFIGMAP), data: libraryFiles() },
            inNs,
        );

        // The steps' runtime, built once here rather than pip-installed inside every run (pipelines/core/runtime.ts).
        const runtime = new StepRuntime(
            `${name}-runtime`,
            {
                repositoryUrl: platform.imageRegistry.repositoryUrl,
                scheduling: platform.systemScheduling,
                podLabels: podLabels.builder,
                credentialsSecret: credentialOutputs.builder,
                dependsOn: [this.namespace, settingsMap, library, ...serviceAccounts],
            },
            parent,
        );

        const afterCrds = { ...parent, dependsOn: [this.namespace, ...this.installs] };
        // Tasks name the runtime's image: they exist only once it is pushed.
        const afterRuntime = { ...parent, dependsOn: [this.namespace, ...this.installs, runtime.build] };
        const credentials: pulumi.Output<CredentialsSecrets> = pulumi.output(
            credentialOutputs,
        ) as pulumi.Output<CredentialsSecrets>;
        for (const [i, plain] of renderTasks({}, podLabels).entries()) {
            const task = pulumi
                .all([credentials, runtime.image])
                .apply(([c, image]) => renderTasks(c, podLabels, image)[i]);
            new k8s.apiextensions.CustomResource(
                `${name}-task-${plain.metadata.name}`,
                {
                    apiVersion: plain.apiVersion,
                    kind: plain.kind,
                    metadata: { ...plain.metadata, namespace: PIPELINES_NAMESPACE },
                    spec: task.spec,
                },
                afterRuntime,
            );
        }
        const defaults: PipelineDefaults = {
            accuracyThreshold: config.accuracyThreshold,
            accuracyTolerance: config.accuracyTolerance,
        };
        for (const p of renderPipelines(defaults)) {
            new k8s.apiextensions.CustomResource(
                `${name}-pipeline-${p.metadata.name}`,
                { ...p, metadata: { ...p.metadata, namespace: PIPELINES_NAMESPACE } },
                afterCrds,
            );
        }
        this.pipelineNames = [...PIPELINE_NAMES];

        // Finished runs beyond keepRuns per pipeline are deleted hourly (with their TaskRuns and pods).
        new k8s.core.v1.ServiceAccount(`${name}-sa-pruner`, { metadata: meta("run-pruner") }, inNs);
        const prunerRole = new k8s.rbac.v1.Role(
            `${name}-pruner`,
            { metadata: meta("run-pruner"), rules: PRUNER_RULES },
            inNs,
        );
        new k8s.rbac.v1.RoleBinding(
            `${name}-pruner`,
            {
                metadata: meta("run-pruner"),
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: prunerRole.metadata.name },
                subjects: [{ kind: "ServiceAccount", name: "run-pruner", namespace: PIPELINES_NAMESPACE }],
            },
            inNs,
        );
        const prunerSecurity = {
            allowPrivilegeEscalation: false,
            runAsNonRoot: true,
            runAsUser: 65532,
            capabilities: { drop: ["ALL"] },
            // The namespace warns at restricted (the cluster tier found the CronJob without it).
            seccompProfile: { type: "RuntimeDefault" },
        };
        new k8s.batch.v1.CronJob(
            `${name}-pruner`,
            {
                metadata: meta("run-pruner"),
                spec: {
                    schedule: "17 * * * *",
                    concurrencyPolicy: "Forbid",
                    successfulJobsHistoryLimit: 1,
                    failedJobsHistoryLimit: 3,
                    jobTemplate: {
                        spec: {
                            backoffLimit: 1,
                            template: {
                                metadata: { labels },
                                spec: {
                                    serviceAccountName: "run-pruner",
                                    restartPolicy: "Never",
                                    nodeSelector: { ...platform.systemScheduling.nodeSelector },
                                    tolerations: platform.systemScheduling.tolerations.map((t) => ({ ...t })),
                                    volumes: [prunerLibrary],
                                    containers: [
                                        {
                                            name: "prune",
                                            // The step runtime: the pinned Kubernetes client is in it.
                                            image: runtime.image,
                                            command: ["python", "-m", `${LIB_PACKAGE}.prune`],
                                            env: [
                                                { name: "NAMESPACE", value: PIPELINES_NAMESPACE },
                                                { name: "KEEP_RUNS", value: String(config.keepRuns) },
                                                { name: "PYTHONPATH", value: KUBE_STEP_PYTHONPATH },
                                            ],
                                            volumeMounts: [{ name: "lib", mountPath: LIB_PATH, readOnly: true }],
                                            resources: {
                                                requests: { cpu: "10m", memory: "32Mi" },
                                                limits: { memory: "128Mi" },
                                            },
                                            securityContext: prunerSecurity,
                                        },
                                    ],
                                },
                            },
                        },
                    },
                },
            },
            { ...parent, dependsOn: [this.namespace, runtime.build] },
        );

        this.registerOutputs({
            namespace: PIPELINES_NAMESPACE,
            pipelines: this.pipelineNames,
            triggers: triggers.map((t) => t.urn),
        });
    }
}
