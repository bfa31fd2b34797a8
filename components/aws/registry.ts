import * as ecr from "@pulumi/aws/ecr";
import * as pulumi from "@pulumi/pulumi";
import { statefulOptions, type StoreProtection } from "./artifact-store";

export interface AwsImageRegistryArgs {
    /** Repository name, e.g. mlops-testbed-dev/model-server. */
    readonly repositoryName: string;
    readonly protection: StoreProtection;
    /** Tagged images kept; older ones expire. */
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
                description: `keep the ${keepImages} most recent images`,
                selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: keepImages },
                action: { type: "expire" },
            },
        ],
    };
}
