import * as authorization from "@pulumi/azure-native/authorization";
import * as eventgrid from "@pulumi/azure-native/eventgrid";
import * as storage from "@pulumi/azure-native/storage";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { DATASET_CONSUMER } from "../../contract/names";
import type { DatasetChangeConsumer } from "../../contract/platform";
import { IMAGES } from "../../contract/versions";
import { statefulOptions, type StoreProtection } from "../../contract/stateful";
import { type AzureRole, roleDefinitionId } from "./roles";

export const BLOB_CREATED = "Microsoft.Storage.BlobCreated";
/** The queue the events land in, and the container of events Event Grid could not deliver. */
export const DATASET_EVENTS_QUEUE = "dataset-events";
export const DATASET_EVENTS_DEAD_LETTER_CONTAINER = "dataset-events-deadletter";
/**
 * Event Grid's retries into the queue: up to 30 attempts within 24 hours (exponential back-off), then the event is
 * written to the dead-letter container. Once in the queue, the consumer retries forwarding (see event_grid.py).
 */
export const DATASET_EVENTS_RETRY = { maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 1440 } as const;
/** How long a message waits in the queue for the consumer (7 days). */
export const DATASET_EVENTS_MESSAGE_TTL_SECONDS = 7 * 86400;

/** The consumer's script (dataset-events-consumer/event_grid.py: Python's standard library only). */
export const EVENT_GRID_CONSUMER_SCRIPT = path.join(__dirname, "dataset-events-consumer", "event_grid.py");

/**
 * What the cluster layer runs for dataset changes on Azure: event_grid.py polls the Storage Queue with the consumer's
 * workload identity (Storage Queue Data Message Processor on that queue) and forwards each BlobCreated in the
 * datasets container in the listener's shape.
 */
export function eventGridConsumer(
    queueUrl: pulumi.Output<string>,
    container: pulumi.Input<string>,
): DatasetChangeConsumer {
    return {
        containers: [
            {
                name: "forward",
                image: IMAGES.python,
                command: ["python", "-u", `${DATASET_CONSUMER.scripts.mountPath}/event_grid.py`],
                env: [
                    { name: "QUEUE_URL", value: queueUrl },
                    { name: "DATASETS_CONTAINER", value: container },
                ],
            },
        ],
        volumes: [],
        scripts: { "event_grid.py": fs.readFileSync(EVENT_GRID_CONSUMER_SCRIPT, "utf8") },
        egress: { kind: "public", port: 443 },
        identity: true,
    };
}

/** The subscription's filter: blob creations in one container, and nothing else. */
export function blobCreatedFilter(container: string) {
    return {
        includedEventTypes: [BLOB_CREATED],
        subjectBeginsWith: `/blobServices/default/containers/${container}/`,
        isSubjectCaseSensitive: true,
    };
}

export interface AzureDatasetEventsArgs {
    readonly resourceGroupName: pulumi.Input<string>;
    readonly location: string;
    /** The storage account holding the datasets container (and, here, the queue). */
    readonly accountName: pulumi.Input<string>;
    readonly accountId: pulumi.Input<string>;
    /** Name of the datasets container. */
    readonly container: pulumi.Input<string>;
    readonly subscriptionId: pulumi.Input<string>;
    readonly tags: Record<string, string>;
    /** Dead letters are the only record of a dataset change that never reached the cluster: kept like the stores. */
    readonly protection: StoreProtection;
}

/**
 * Dataset changes for the cluster on Azure: the storage account's Event Grid system topic, one event subscription
 * for BlobCreated in the datasets container, delivered into a Storage Queue of the same account. The account takes
 * no shared keys, so Event Grid delivers with the topic's own managed identity: it may only send messages to that
 * queue and write dead letters into their container. The in-cluster consumer reads the queue with its own workload
 * identity (Storage Queue Data Message Processor on the queue, given by the platform's bindWorkloadIdentity).
 */
export class AzureDatasetEvents extends pulumi.ComponentResource {
    readonly queueId: pulumi.Output<string>;
    readonly queueUrl: pulumi.Output<string>;

    constructor(name: string, args: AzureDatasetEventsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("mlops-testbed:azure:DatasetEvents", name, {}, opts);
        const parent = { parent: this };
        const queue = new storage.Queue(
            `${name}-queue`,
            {
                resourceGroupName: args.resourceGroupName,
                accountName: args.accountName,
                queueName: DATASET_EVENTS_QUEUE,
            },
            parent,
        );
        const deadLetters = new storage.BlobContainer(
            `${name}-deadletter`,
            {
                resourceGroupName: args.resourceGroupName,
                accountName: args.accountName,
                containerName: DATASET_EVENTS_DEAD_LETTER_CONTAINER,
                publicAccess: "None",
            },
            statefulOptions(args.protection, this),
        );
        const topic = new eventgrid.SystemTopic(
            `${name}-topic`,
            {
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                source: args.accountId,
                topicType: "Microsoft.Storage.StorageAccounts",
                identity: { type: "SystemAssigned" },
                tags: args.tags,
            },
            parent,
        );
        const topicPrincipal = topic.identity.apply((i) => {
            if (!i?.principalId) throw new Error("the Event Grid system topic has no system-assigned identity");
            return i.principalId;
        });
        const role = (r: AzureRole) => pulumi.output(args.subscriptionId).apply((s) => roleDefinitionId(s, r));
        const send = new authorization.RoleAssignment(
            `${name}-topic-send`,
            {
                scope: queue.id,
                roleDefinitionId: role("storageQueueDataMessageSender"),
                principalId: topicPrincipal,
                principalType: "ServicePrincipal",
                description: "Event Grid delivers dataset changes to the dataset-events queue",
            },
            parent,
        );
        const deadLetter = new authorization.RoleAssignment(
            `${name}-topic-deadletter`,
            {
                scope: deadLetters.id,
                roleDefinitionId: role("storageBlobDataContributor"),
                principalId: topicPrincipal,
                principalType: "ServicePrincipal",
                description: "Event Grid writes undeliverable dataset changes to their dead-letter container",
            },
            parent,
        );
        new eventgrid.SystemTopicEventSubscription(
            `${name}-subscription`,
            {
                resourceGroupName: args.resourceGroupName,
                systemTopicName: topic.name,
                eventSubscriptionName: "datasets-blob-created",
                eventDeliverySchema: "EventGridSchema",
                filter: pulumi.output(args.container).apply(blobCreatedFilter),
                deliveryWithResourceIdentity: {
                    identity: { type: "SystemAssigned" },
                    destination: {
                        endpointType: "StorageQueue",
                        resourceId: args.accountId,
                        queueName: DATASET_EVENTS_QUEUE,
                        queueMessageTimeToLiveInSeconds: DATASET_EVENTS_MESSAGE_TTL_SECONDS,
                    },
                },
                deadLetterWithResourceIdentity: {
                    identity: { type: "SystemAssigned" },
                    deadLetterDestination: {
                        endpointType: "StorageBlob",
                        resourceId: args.accountId,
                        blobContainerName: DATASET_EVENTS_DEAD_LETTER_CONTAINER,
                    },
                },
                retryPolicy: { ...DATASET_EVENTS_RETRY },
            },
            { parent: this, dependsOn: [queue, deadLetters, send, deadLetter] },
        );
        this.queueId = queue.id;
        this.queueUrl = pulumi.interpolate`https://${args.accountName}.queue.core.windows.net/${DATASET_EVENTS_QUEUE}`;
        this.registerOutputs({ queueUrl: this.queueUrl });
    }
}
