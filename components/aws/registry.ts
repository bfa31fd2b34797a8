import * as ecr from "@pulumi/aws/ecr";
import * as pulumi from "@pulumi/pulumi";
import { TESTBED_BUILT_IMAGES } from "../../contract/versions";
import { statefulOptions, type StoreProtection } from "./artifact-store";

export interface AwsImageRegistryArgs {
    /** Repository name, e.g. mlops-testbed-dev/model-server. */
    readonly repositoryName: string;
    readonly protection: StoreProtection;
    /** Model-server images kept; older ones expire (the step runtime's images are kept apart: RUNTIMES_KEPT). */
    readonly keepImages: number;
    /** Days after which untagged images expire. */
    readonly untaggedDays: number;
    readonly tags: Record<string, string>;
}

/** ECR repository for model-server images: immutable tags, scan on push, KMS encryption, lifecycle. */
export class AwsImageRegistry extends pulumi.ComponentResource {
    readonly repositoryUrl: pulumi.Output<string>;
    readonly repositoryArn: pulumi.Output<string>;

    constructor(name: string, args: AwsImageRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlops-testbed:aws:ImageRegistry", name, {}, opts);
        const repo = new ecr.Repository(
            `${name}-repo`,
            {
                name: args.repositoryName,
                imageTagMutability: "IMMUTABLE",
                imageScanningConfiguration: { scanOnPush: true },
                encryptionConfigurations: [{ encryptionType: "KMS" }],
                forceDelete: args.protection === "disposable",
                tags: args.tags,
            },
            statefulOptions(args.protection, this),
        );
        new ecr.LifecyclePolicy(
            `${name}-lifecycle`,
            {
                repository: repo.name,
                policy: JSON.stringify(registryLifecyclePolicy(args.keepImages, args.untaggedDays)),
            },
            { parent: this },
        );
        this.repositoryUrl = repo.repositoryUrl;
        this.repositoryArn = repo.arn;
        this.registerOutputs({ repositoryUrl: this.repositoryUrl });
    }
}

/**
 * Step runtimes kept: the current one and the two before it (pins rolled back find theirs without a rebuild). The
 * runtime shares the model-server repository and is pushed once per set of pins, while every deploy run pushes a
 * model image; counted among those, the runtime every Task runs on would expire after `keepImages` builds.
 */
export const RUNTIMES_KEPT = 3;

/**
 * ECR's lifecycle rules for the model-server repository. The runtime's rule comes before the rule over any tag: ECR
 * never lets a lower-priority rule expire an image that a higher-priority rule's tag selection matches.
 */
export function registryLifecyclePolicy(keepImages: number, untaggedDays: number) {
    return {
        rules: [
            {
                rulePriority: 1,
                description: `expire untagged images after ${untaggedDays} days`,
                selection: {
                    tagStatus: "untagged",
                    countType: "sinceImagePushed",
                    countUnit: "days",
                    countNumber: untaggedDays,
                },
                action: { type: "expire" },
            },
            {
                rulePriority: 2,
                description: `keep the ${RUNTIMES_KEPT} most recent step runtimes`,
                selection: {
                    tagStatus: "tagged",
                    tagPrefixList: [TESTBED_BUILT_IMAGES.runtimeTagPrefix],
                    countType: "imageCountMoreThan",
                    countNumber: RUNTIMES_KEPT,
                },
                action: { type: "expire" },
            },
            {
                rulePriority: 3,
                description: `keep the ${keepImages} most recent model-server images`,
                selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: keepImages },
                action: { type: "expire" },
            },
        ],
    };
}
