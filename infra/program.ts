import * as pulumi from "@pulumi/pulumi";
import { AwsPlatform } from "../components/aws/platform";
import { Monitoring } from "../components/k8s/monitoring";
import type { Platform } from "../components/platform";
import { loadConfig, type TestbedConfig } from "./config";
import { stackOutputs, type StackOutputs } from "./outputs";
import type { CloudName } from "./schema/platform";

interface PlatformContext {
    readonly config: TestbedConfig;
    readonly project: string;
    readonly stack: string;
}

/** Cloud → platform factory. Config validation refuses clouds whose platform is not built yet. */
const PLATFORMS: Record<CloudName, ((ctx: PlatformContext) => Platform) | undefined> = {
    aws: ({ config, project, stack }) =>
        new AwsPlatform("aws", { config, clusterName: `${project}-${stack}`, tags: { project, stack, "managed-by": "pulumi" } }),
    azure: undefined,
    existing: undefined,
};

/**
 * The whole testbed: config → platform → cluster layer → outputs. `pulumi up` runs this, and so does the offline
 * plan under the mock runtime. Config is validated before any resource is registered.
 */
export async function program(): Promise<StackOutputs> {
    const config = loadConfig();
    const ctx: PlatformContext = { config, project: pulumi.getProject(), stack: pulumi.getStack() };
    const factory = PLATFORMS[config.cloud];
    if (!factory) throw new pulumi.RunError(`cloud ${config.cloud} has no platform yet`);
    const platform = factory(ctx);
    const monitoring = new Monitoring("monitoring", {
        config: config.monitoring,
        systemScheduling: platform.systemScheduling,
        gpuScheduling: platform.gpuScheduling,
        dependsOn: platform.clusterReady,
    }, { providers: [platform.k8sProvider] });
    return stackOutputs(platform, {
        grafanaUrl: monitoring.grafanaUrl,
        prometheusUrl: monitoring.prometheusUrl,
        alertmanagerUrl: monitoring.alertmanagerUrl,
        grafanaAdminPassword: monitoring.grafanaAdminPassword,
        dashboards: monitoring.dashboards,
    });
}
