import * as cloudwatch from "@pulumi/aws/cloudwatch";
import * as sqs from "@pulumi/aws/sqs";
import * as pulumi from "@pulumi/pulumi";
import type { DatasetChangeConsumer } from "../../contract/platform";
import { IMAGES } from "../../contract/versions";

export interface DatasetEventsArgs {
    /** Name of the datasets bucket (it sends its object events to EventBridge). */
    readonly bucketName: pulumi.Input<string>;
    readonly tags: Record<string, string>;
}

/** EventBridge pattern of the object creations in one bucket (S3's EventBridge notifications). */
export function objectCreatedPattern(bucketName: string) {
    return { source: ["aws.s3"], "detail-type": ["Object Created"], detail: { bucket: { name: [bucketName] } } };
}

/** Queue policy: only this EventBridge rule may send to the queue. */
export function queuePolicy(queueArn: string, ruleArn: string) {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "EventBridgeRuleOnly",
                Effect: "Allow",
                Principal: { Service: "events.amazonaws.com" },
                Action: "sqs:SendMessage",
                Resource: queueArn,
                Condition: { ArnEquals: { "aws:SourceArn": ruleArn } },
            },
        ],
    };
}

/**
 * The SQS consumer's loop: long-poll one message, POST its body (an EventBridge event, already the listener's shape)
 * to the EventListener, delete it only once the listener took it (else it returns after the visibility timeout,
 * then dead-letters).
 */
export function sqsConsumerScript(): string {
    return [
        "set -u",
        "while true; do",
        `  out=$(aws sqs receive-message --queue-url "$QUEUE_URL" --max-number-of-messages 1 --wait-time-seconds 20 --query 'Messages[0].[ReceiptHandle,Body]' --output text) || { sleep 5; continue; }`,
        `  if [ -z "$out" ] || [ "$out" = "None" ]; then continue; fi`,
        `  handle=$(printf '%s' "$out" | cut -f1)`,
        `  body=$(printf '%s' "$out" | cut -f2-)`,
        `  if curl -fsS -m 10 -o /dev/null -H 'Content-Type: application/json' --data-binary "$body" "$LISTENER_URL"; then`,
        `    aws sqs delete-message --queue-url "$QUEUE_URL" --receipt-handle "$handle"`,
        "  fi",
        "done",
    ].join("\n");
}

/**
 * What the cluster layer runs for dataset changes on AWS: the AWS CLI long-polls the queue with the consumer's own
 * IRSA role (consumerStatements) and forwards each event as it is.
 */
export function sqsConsumer(queueUrl: pulumi.Output<string>, region: string): DatasetChangeConsumer {
    return {
        containers: [
            {
                name: "forward",
                image: IMAGES.awsCli,
                command: ["/bin/sh", "-c", sqsConsumerScript()],
                env: [
                    { name: "QUEUE_URL", value: queueUrl },
                    { name: "AWS_REGION", value: region },
                ],
            },
        ],
        volumes: [],
        scripts: {},
        egress: { kind: "public", port: 443 },
        identity: true,
    };
}

/** What a consumer identity may do on the queue: read, delete what it read, nothing else. */
export function consumerStatements(queueArn: string) {
    return [
        {
            Sid: "ConsumeDatasetChanges",
            Effect: "Allow" as const,
            Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
            Resource: [queueArn],
        },
    ];
}

/**
 * Dataset changes for the cluster: an EventBridge rule on the datasets bucket's "Object Created" events, into an
 * encrypted SQS queue (with a dead-letter queue for events the consumer cannot forward) that only that rule may
 * write to. The in-cluster consumer long-polls it with its own IRSA role.
 */
export class AwsDatasetEvents extends pulumi.ComponentResource {
    readonly queueUrl: pulumi.Output<string>;
    readonly queueArn: pulumi.Output<string>;

    constructor(name: string, args: DatasetEventsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlops-testbed:aws:DatasetEvents", name, {}, opts);
        const parent = { parent: this };
        const dlq = new sqs.Queue(
            `${name}-dlq`,
            { sqsManagedSseEnabled: true, messageRetentionSeconds: 14 * 86400, tags: args.tags },
            parent,
        );
        const queue = new sqs.Queue(
            `${name}-queue`,
            {
                sqsManagedSseEnabled: true,
                messageRetentionSeconds: 4 * 86400,
                visibilityTimeoutSeconds: 60,
                receiveWaitTimeSeconds: 20,
                redrivePolicy: dlq.arn.apply((arn) => JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: 5 })),
                tags: args.tags,
            },
            parent,
        );
        const rule = new cloudwatch.EventRule(
            `${name}-rule`,
            {
                description: "Object creations in the datasets bucket, for the dataset-change trigger",
                eventPattern: pulumi.output(args.bucketName).apply((b) => JSON.stringify(objectCreatedPattern(b))),
                tags: args.tags,
            },
            parent,
        );
        new sqs.QueuePolicy(
            `${name}-policy`,
            {
                queueUrl: queue.url,
                policy: pulumi.all([queue.arn, rule.arn]).apply(([q, r]) => JSON.stringify(queuePolicy(q, r))),
            },
            parent,
        );
        new cloudwatch.EventTarget(`${name}-target`, { rule: rule.name, arn: queue.arn }, parent);
        this.queueUrl = queue.url;
        this.queueArn = queue.arn;
        this.registerOutputs({ queueUrl: this.queueUrl });
    }
}
