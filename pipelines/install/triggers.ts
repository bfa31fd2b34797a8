import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { GATEWAY_CLASS, PART_OF, PIPELINES_NAMESPACE } from "../../contract/names";
import type { Platform } from "../../contract/platform";
import type { Pipeline, TaskLike } from "../core/tekton";
import {
    GIT_WEBHOOK_SECRET,
    LISTENER_SERVICE_ACCOUNT,
    TRIGGER_KINDS,
    eventListener,
    trainAndDeployTemplate,
    triggerBindings,
} from "../triggers/triggers";
import { DatasetChangeForwarder } from "./dataset-changes";
import { listenerNetworkPolicySpec } from "./network-policies";
import { WebhookGateway } from "./webhook-gateway";

export interface PipelineTriggersArgs {
    /** Names of the configured models; each gets its git, dataset and alert trigger. */
    readonly models: readonly string[];
    /** The platform: system and GPU scheduling, storage class, dataset change consumer, workload identities. */
    readonly platform: Pick<
        Platform,
        "systemScheduling" | "gpuScheduling" | "storageClass" | "datasetChanges" | "bindWorkloadIdentity" | "addons"
    >;
    /** The train-and-deploy Pipeline every trigger starts, every Task it references, and GPUs per training run. */
    readonly run: { readonly pipeline: Pipeline; readonly tasks: readonly TaskLike[]; readonly trainingGpus: number };
    /** Repository dataset and alert triggers build from (`pipelines.sourceRepository`); absent: only the git trigger. */
    readonly sourceRepository?: string;
    /** What must exist first: the Tekton Triggers install (CRDs, interceptors) and the pipelines namespace. */
    readonly dependsOn: pulumi.Input<pulumi.Resource>[];
    /**
     * What the webhook Gateway, its proxies and their public Service need: the model gateway (Envoy Gateway, its
     * CRDs, the GatewayClass, the `gateway` namespace), not the Tekton install; so the load balancer is provisioned
     * while Tekton installs.
     */
    readonly gatewayReady: pulumi.Input<pulumi.Resource>[];
    /** The `gateway` namespace: all the public load balancer Service needs. */
    readonly gatewayNamespace: pulumi.Input<pulumi.Resource>;
    /**
     * The `pipelines` namespace: all the dataset-change forwarder needs (it posts to the EventListener's fixed
     * address and retries what it cannot deliver), so it starts while Tekton installs.
     */
    readonly pipelinesNamespace: pulumi.Input<pulumi.Resource>;
}

/**
 * Tekton Triggers of the testbed (pipelines/triggers): the EventListener and its bindings and template; the
 * GitHub webhook's HMAC secret (generated); the NetworkPolicy of the listener; the webhook gateway that is the only
 * way in from outside (webhook-gateway.ts); and the pod that forwards the platform's dataset changes
 * (dataset-changes.ts). The Kubernetes provider comes from the component's options, like every component's.
 */
export class PipelineTriggers extends pulumi.ComponentResource {
    readonly gitWebhookUrl: pulumi.Output<string>;
    readonly gitWebhookSecret: pulumi.Output<string>;

    constructor(name: string, args: PipelineTriggersArgs, opts?: pulumi.ComponentResourceOptions) {
        // The type the component had in components/k8s: the alias keeps the URNs of stacks deployed before the move.
        super(
            "mlops-testbed:pipelines:PipelineTriggers",
            name,
            {},
            {
                ...opts,
                aliases: [...(opts?.aliases ?? []), { type: "mlops-testbed:k8s:PipelineTriggers" }],
            },
        );
        const k8sOpts = { parent: this, dependsOn: args.dependsOn };
        const labels = { "app.kubernetes.io/part-of": PART_OF };
        const meta = (n: string, namespace: string = PIPELINES_NAMESPACE) => ({ name: n, namespace, labels });
        const scheduling = args.platform.systemScheduling;

        const secret = new random.RandomPassword(
            `${name}-git-secret`,
            { length: 40, special: false },
            { parent: this },
        );
        new k8s.core.v1.Secret(
            `${name}-git-webhook`,
            {
                metadata: meta(GIT_WEBHOOK_SECRET.name),
                type: "Opaque",
                stringData: { [GIT_WEBHOOK_SECRET.key]: secret.result },
            },
            k8sOpts,
        );

        // The listener's identity: Tekton Triggers' own roles for EventListeners, nothing more.
        new k8s.core.v1.ServiceAccount(`${name}-sa`, { metadata: meta(LISTENER_SERVICE_ACCOUNT) }, k8sOpts);
        const subjects = [{ kind: "ServiceAccount", name: LISTENER_SERVICE_ACCOUNT, namespace: PIPELINES_NAMESPACE }];
        new k8s.rbac.v1.RoleBinding(
            `${name}-listener-roles`,
            {
                metadata: meta("triggers-eventlistener"),
                roleRef: {
                    apiGroup: "rbac.authorization.k8s.io",
                    kind: "ClusterRole",
                    name: "tekton-triggers-eventlistener-roles",
                },
                subjects,
            },
            k8sOpts,
        );
        new k8s.rbac.v1.ClusterRoleBinding(
            `${name}-listener-clusterroles`,
            {
                metadata: { name: "mlops-testbed-triggers-eventlistener", labels },
                roleRef: {
                    apiGroup: "rbac.authorization.k8s.io",
                    kind: "ClusterRole",
                    name: "tekton-triggers-eventlistener-clusterroles",
                },
                subjects,
            },
            k8sOpts,
        );

        const trig = (kind: string, spec: { metadata: { name: string } } & Record<string, unknown>) =>
            new k8s.apiextensions.CustomResource(
                `${name}-${kind}-${spec.metadata.name}`,
                spec as k8s.apiextensions.CustomResourceArgs,
                k8sOpts,
            );
        const bindings = triggerBindings().map((b) => trig("binding", b));
        const template = trig(
            "template",
            trainAndDeployTemplate(
                args.run.pipeline,
                args.run.tasks,
                {
                    trainingGpus: args.run.trainingGpus,
                    gpuScheduling: args.platform.gpuScheduling,
                    storageClass: args.platform.storageClass,
                },
                args.sourceRepository ?? "",
            ),
        );
        // Without a configured repository only a push (which names its repository) can start a delivery.
        const kinds = args.sourceRepository ? TRIGGER_KINDS : TRIGGER_KINDS.filter((k) => k === "git");
        const listener = new k8s.apiextensions.CustomResource(
            `${name}-listener`,
            eventListener(args.models, scheduling, kinds) as k8s.apiextensions.CustomResourceArgs,
            {
                ...k8sOpts,
                dependsOn: [...args.dependsOn, ...bindings, template],
            },
        );
        new k8s.networking.v1.NetworkPolicy(
            `${name}-listener-ingress`,
            { metadata: meta("eventlistener-ingress"), spec: listenerNetworkPolicySpec() },
            k8sOpts,
        );

        const webhook = new WebhookGateway(
            `${name}-webhook`,
            {
                scheduling,
                gatewayClassName:
                    args.platform.addons.gateway.mode === "present"
                        ? args.platform.addons.gateway.gatewayClassName
                        : GATEWAY_CLASS.name,
                gatewayReady: args.gatewayReady,
                gatewayNamespace: args.gatewayNamespace,
                pipelinesReady: args.dependsOn,
                listener,
            },
            { parent: this },
        );
        if (args.platform.datasetChanges) {
            new DatasetChangeForwarder(
                `${name}-dataset-events`,
                {
                    consumer: args.platform.datasetChanges,
                    platform: args.platform,
                    dependsOn: [args.pipelinesNamespace],
                },
                { parent: this },
            );
        }

        this.gitWebhookUrl = webhook.url;
        this.gitWebhookSecret = pulumi.secret(secret.result);
        this.registerOutputs({ gitWebhookUrl: this.gitWebhookUrl });
    }
}
