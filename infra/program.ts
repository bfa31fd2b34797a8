import * as pulumi from "@pulumi/pulumi";
import { MetricsServer } from "../components/models/metrics-server";
import { ModelRouting, routeName } from "../components/models/model-routing";
import { ModelVersionNamespace } from "../components/models/model-version-namespace";
import { Monitoring } from "../monitoring/stack";
import { Promotion } from "../pipelines/install/promotion";
import { allTasks, renderPipelines } from "../pipelines";
import { TRAIN_AND_DEPLOY } from "../pipelines/triggers/triggers";
import { PipelineTriggers } from "../pipelines/install/triggers";
import { Tekton } from "../pipelines/install/tekton";
import type { Platform } from "../contract/platform";
import { loadConfig, type TestbedConfig } from "./config";
import { stackOutputs, type StackOutputs } from "./outputs";
import { platformEntry } from "./platforms";

/**
 * The whole testbed: config → platform → cluster layer → outputs. `pulumi up` runs this, and so does the offline
 * plan under the mock runtime. Config is validated before any resource is registered.
 */
export async function program(): Promise<StackOutputs> {
    const config = loadConfig();
    const platform = platformEntry(config).create({ project: pulumi.getProject(), stack: pulumi.getStack() });
    // One convention: every cluster-layer component gets the platform's provider in its options; its children
    // inherit it from their parent. Nothing takes a provider as an argument, and nothing uses an ambient kubeconfig.
    const k8s = { providers: [platform.k8sProvider] };
    const monitoring = new Monitoring(
        "monitoring",
        {
            config: config.monitoring,
            systemScheduling: platform.systemScheduling,
            gpuScheduling: platform.gpuScheduling,
            dependsOn: platform.clusterReady,
            storageClass: platform.storageClass,
            stack: platform.addons.monitoring,
        },
        k8s,
    );
    if (platform.metricsServer.install) {
        new MetricsServer(
            "metrics-server",
            {
                scheduling: platform.systemScheduling,
                kubeletInsecureTls: platform.metricsServer.kubeletInsecureTls,
                dependsOn: platform.clusterReady,
            },
            k8s,
        );
    }
    const models = modelLayer(config, platform, k8s);
    const tekton = new Tekton(
        "tekton",
        {
            config: config.pipelines,
            platform,
            dependsOn: platform.clusterReady,
            monitoringReady: monitoring.crdsReady,
            gatewayReady: [models.routing],
            modelRoutes: Object.fromEntries(config.models.map((m) => [m.name, routeName(m)])),
            storageClass: platform.storageClass,
            tekton: platform.addons.tekton,
        },
        k8s,
    );
    // The promote Task and the triggers need the Tekton install (CRDs, interceptors, the pipelines namespace) and the
    // gateway (its CRDs and GatewayClass carry the webhook route).
    const pipelinesReady = [tekton, ...tekton.installs, models.routing];
    new Promotion(
        "promotion",
        { promotion: config.pipelines.promotion, alerts: config.monitoring.alerts, dependsOn: pipelinesReady },
        k8s,
    );
    const promotionSettings = { promotion: config.pipelines.promotion, alerts: config.monitoring.alerts };
    const triggers = new PipelineTriggers(
        "triggers",
        {
            models: config.models.map((m) => m.name),
            platform,
            run: {
                pipeline: renderPipelines(config.pipelines).find((p) => p.metadata.name === TRAIN_AND_DEPLOY)!,
                tasks: allTasks(promotionSettings),
                trainingGpus: config.pipelines.trainingGpus,
            },
            sourceRepository: config.pipelines.sourceRepository,
            dependsOn: pipelinesReady,
            gatewayReady: [models.routing],
        },
        k8s,
    );
    return stackOutputs(platform, {
        modelNamespaces: models.namespaces,
        modelEndpoints: models.endpoints,
        grafanaUrl: monitoring.grafanaUrl,
        prometheusUrl: monitoring.prometheusUrl,
        alertmanagerUrl: monitoring.alertmanagerUrl,
        grafanaAdminPassword: monitoring.grafanaAdminPassword,
        dashboards: monitoring.dashboards,
        pipelinesNamespace: tekton.namespace.metadata.name,
        pipelines: tekton.pipelineNames,
        gitWebhookUrl: triggers.gitWebhookUrl,
        gitWebhookSecret: triggers.gitWebhookSecret,
    });
}

/** One isolated namespace per model version, and the gateway with one route per model. */
function modelLayer(config: TestbedConfig, platform: Platform, k8s: pulumi.ComponentResourceOptions) {
    const resources: Record<string, Record<string, ModelVersionNamespace>> = {};
    for (const model of config.models) {
        resources[model.name] = {};
        for (const version of model.versions) {
            resources[model.name][version.name] = new ModelVersionNamespace(
                `model-${model.name}-${version.name}`,
                {
                    model: model.name,
                    version,
                    quotaDefaults: config.quotaDefaults,
                    platform,
                },
                k8s,
            );
        }
    }
    const routing = new ModelRouting(
        "model-routing",
        {
            models: config.models,
            namespaces: resources,
            proxyReplicas: config.modelGateway.replicas,
            scheduling: platform.systemScheduling,
            gateway: platform.addons.gateway,
            dependsOn: platform.clusterReady,
        },
        k8s,
    );
    const namespaces = mapValues(resources, (versions) => mapValues(versions, (ns) => ns.namespaceName));
    return { namespaces, endpoints: routing.endpoints, routing };
}

function mapValues<T, U>(record: Record<string, T>, f: (value: T) => U): Record<string, U> {
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, f(v)]));
}
