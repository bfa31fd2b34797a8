/**
 * Cloud → platform: how each `cloud` builds its Platform, and what tools need of a platform without building it. Adding
 * a cloud means its own folder under components/, its section in contract/config, and one entry here.
 */
import { AWS_STORAGE_CLASS, AwsPlatform, awsGpuScheduling } from "../components/aws/platform";
import { AZURE_STORAGE_CLASS, AzurePlatform, azureGpuScheduling } from "../components/azure/platform";
import {
    ExistingPlatform,
    existingGpuScheduling,
    kubeconfigFromConfig,
    storeKeysFromConfig,
} from "../components/existing/platform";
import type { CloudName } from "../contract/clouds";
import type { GpuScheduling, Platform } from "../contract/platform";
import type { ConfigFor, TestbedConfig } from "./config";

/** Where the platform is built: the Pulumi project and stack name it. */
export interface PlatformContext {
    readonly project: string;
    readonly stack: string;
}

/** One cloud's entry: its platform, and what the run builder needs of it from config alone. */
export interface PlatformEntry<C extends CloudName> {
    /** Builds the platform from the validated config of a stack on this cloud. */
    readonly create: (config: ConfigFor<C>, ctx: PlatformContext) => Platform;
    /** Where GPU pods go, as the platform will say, without building it. */
    readonly gpuScheduling: (config: ConfigFor<C>) => GpuScheduling;
    /** The StorageClass of the runs' workspaces, as the platform will name it (null: the cluster's default). */
    readonly storageClass: (config: ConfigFor<C>) => string | null;
}

const tags = ({ project, stack }: PlatformContext) => ({ project, stack, "managed-by": "pulumi" });

export const PLATFORMS: { readonly [C in CloudName]: PlatformEntry<C> } = {
    aws: {
        create: (config, ctx) =>
            new AwsPlatform("aws", { config, clusterName: `${ctx.project}-${ctx.stack}`, tags: tags(ctx) }),
        gpuScheduling: () => awsGpuScheduling(),
        storageClass: () => AWS_STORAGE_CLASS,
    },
    azure: {
        create: (config, ctx) =>
            new AzurePlatform("azure", { config, clusterName: `${ctx.project}-${ctx.stack}`, tags: tags(ctx) }),
        gpuScheduling: (config) => azureGpuScheduling(config.gpuNodePools.some((p) => p.capacityType === "spot")),
        storageClass: () => AZURE_STORAGE_CLASS,
    },
    existing: {
        create: (config) =>
            new ExistingPlatform("existing", {
                config,
                kubeconfig: kubeconfigFromConfig(),
                // Validation allows the secret storeCredentials only for an external store naming no Secret.
                ...(config.storeCredentials !== undefined ? { storeKeys: storeKeysFromConfig() } : {}),
            }),
        gpuScheduling: (config) => existingGpuScheduling(config.existing.gpu),
        storageClass: (config) => config.existing.storageClass ?? null,
    },
};

/** The entry of a config's cloud, applied to that config (the type of each entry follows its cloud). */
export function platformEntry(config: TestbedConfig) {
    const entry = PLATFORMS[config.cloud] as PlatformEntry<TestbedConfig["cloud"]>;
    return {
        create: (ctx: PlatformContext) => entry.create(config as never, ctx),
        gpuScheduling: () => entry.gpuScheduling(config as never),
        storageClass: () => entry.storageClass(config as never),
    };
}
