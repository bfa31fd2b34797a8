import * as fs from "node:fs";
import * as path from "node:path";
import { DATASET_CONSUMER, STORE_NAMESPACE } from "../../contract/names";
import type { DatasetChangeConsumer } from "../../contract/platform";
import { IMAGES } from "../../contract/versions";
import { STORE_BUCKETS_PATH, STORE_FILER_ADDRESS, STORE_FILER_GRPC_PORT, STORE_FILER_POD_LABELS } from "./seaweedfs";

/** The forwarder's script (dataset-events-consumer/seaweedfs_filer.py: Python's standard library only). */
export const FILER_CONSUMER_SCRIPT = path.join(__dirname, "dataset-events-consumer", "seaweedfs_filer.py");

/** Where the tail container writes the filer's events and the forwarder reads them (a FIFO in an emptyDir). */
const FILER_EVENTS = { volume: "events", mountPath: "/events", fifo: "/events/filer-meta" } as const;

/**
 * What the cluster layer runs for dataset changes on an existing cluster with the in-cluster SeaweedFS store: one
 * container tails the filer's metadata events under the datasets bucket (`weed filer.meta.tail`, the pinned SeaweedFS
 * image) into a FIFO; the other (seaweedfs_filer.py) forwards each object created there in the listener's shape. No
 * cloud identity: the filer's gRPC port is reached inside the cluster.
 */
export function filerConsumer(bucket: string): DatasetChangeConsumer {
    const events = { name: FILER_EVENTS.volume, mountPath: FILER_EVENTS.mountPath };
    return {
        containers: [
            {
                // Waits for the forwarder's FIFO, then streams the filer's metadata events under the bucket into it.
                name: "tail",
                image: IMAGES.seaweedfs,
                command: [
                    "/bin/sh",
                    "-c",
                    `while [ ! -p "$EVENTS_FIFO" ]; do sleep 1; done; exec weed filer.meta.tail -filer="$FILER" -pathPrefix="$PATH_PREFIX" > "$EVENTS_FIFO"`,
                ],
                env: [
                    { name: "FILER", value: STORE_FILER_ADDRESS },
                    { name: "PATH_PREFIX", value: `${STORE_BUCKETS_PATH}/${bucket}/` },
                    { name: "EVENTS_FIFO", value: FILER_EVENTS.fifo },
                ],
                volumeMounts: [events],
            },
            {
                name: "forward",
                image: IMAGES.python,
                command: ["python", "-u", `${DATASET_CONSUMER.scripts.mountPath}/seaweedfs_filer.py`],
                env: [
                    { name: "EVENTS_FIFO", value: FILER_EVENTS.fifo },
                    { name: "BUCKETS_PATH", value: STORE_BUCKETS_PATH },
                    { name: "DATASETS_BUCKET", value: bucket },
                ],
                volumeMounts: [events],
            },
        ],
        volumes: [{ name: FILER_EVENTS.volume, emptyDir: {} }],
        scripts: { "seaweedfs_filer.py": fs.readFileSync(FILER_CONSUMER_SCRIPT, "utf8") },
        egress: {
            kind: "in-cluster",
            namespace: STORE_NAMESPACE,
            podLabels: { ...STORE_FILER_POD_LABELS },
            port: STORE_FILER_GRPC_PORT,
        },
        identity: false,
    };
}
