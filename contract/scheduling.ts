/**
 * Node labels and taints every platform that builds its own nodes (AWS, Azure) puts on them, so the cluster
 * layer sees the same scheduling on every cloud. An existing cluster takes them from config instead.
 */

/** The taint every GPU node carries so only pods that ask for a GPU land there. */
export const GPU_TAINT = { key: "nvidia.com/gpu", value: "true", effect: "NoSchedule" } as const;
/** Labels set on every GPU node; the device plugin and GPU exporters select on them. */
export const GPU_NODE_LABELS = { "nvidia.com/gpu.present": "true", "mlops-testbed/node-role": "gpu" } as const;
export const SYSTEM_NODE_LABELS = { "mlops-testbed/node-role": "system" } as const;
/** Label naming the testbed GPU pool a node belongs to. */
export const GPU_POOL_LABEL = "mlops-testbed/gpu-pool";
