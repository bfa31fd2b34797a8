import { type ConfigIssue, keyPath, rawArray, rawRecord } from "../../contract/config/issues";

/**
 * Rules for an existing cluster: it needs its kubeconfig and its own description, and builds no nodes. They read
 * the raw config defensively, so they report alongside schema problems: every problem in one pass.
 */
export function validateExistingConfig(raw: Record<string, unknown>): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    if (raw.existing === undefined) {
        issues.push({
            key: keyPath(["existing"]),
            message:
                "is required when cloud is existing: set at least existing.imageRegistry, e.g. { imageRegistry: registry.example.com/mlops/model-server }",
        });
    }
    if (raw.kubeconfig === undefined) {
        issues.push({
            key: keyPath(["kubeconfig"]),
            message: "is required when cloud is existing: pulumi config set --secret kubeconfig < path/to/kubeconfig",
        });
    }
    const pools = rawArray(raw.gpuNodePools);
    if (pools.length > 0) {
        issues.push({
            key: keyPath(["gpuNodePools"]),
            message:
                "an existing cluster brings its own nodes, so no pools are created; remove gpuNodePools and describe the GPU nodes under existing.gpu (nodeLabel, taints)",
            value: pools.map((p) => rawRecord(p).name),
        });
    }
    const seen = new Set<string>();
    rawArray(rawRecord(rawRecord(raw.existing).gpu).taints).forEach((value, i) => {
        const t = rawRecord(value);
        if (typeof t.key !== "string" || typeof t.effect !== "string") return; // the schema reports it
        const id = `${t.key}:${t.effect}`;
        if (seen.has(id))
            issues.push({ key: keyPath(["existing", "gpu", "taints", i]), message: `duplicate taint ${id}`, value: t });
        seen.add(id);
    });
    issues.push(...storeIssues(raw), ...addonIssues(raw));
    return issues;
}

/** The parts of an external store's endpoint the rules look at, or null when it does not parse (the schema says so). */
export function endpointParts(endpoint: unknown): { host: string; port: number; ipv4: boolean } | null {
    if (typeof endpoint !== "string") return null;
    const m = /^(https?):\/\/([A-Za-z0-9.-]+)(?::(\d+))?\/?$/.exec(endpoint);
    if (!m) return null;
    const host = m[2].toLowerCase();
    return {
        host,
        port: m[3] ? Number(m[3]) : m[1] === "https" ? 443 : 80,
        ipv4: /^\d{1,3}(\.\d{1,3}){3}$/.test(host),
    };
}

/** Private, link-local and CGNAT IPv4 addresses, which the default (public) egress never reaches. */
function isPrivateIpv4(host: string): boolean {
    const [a, b] = host.split(".").map(Number);
    return (
        a === 10 ||
        (a === 172 && b >= 16 && b <= 31) ||
        (a === 192 && b === 168) ||
        (a === 169 && b === 254) ||
        (a === 100 && b >= 64 && b <= 127)
    );
}

const EXTERNAL_ONLY = ["endpoint", "region", "buckets", "credentialsSecret", "egress"] as const;
const EXTERNAL_REQUIRED = {
    endpoint: "the URL of the S3 API, e.g. https://s3.example.com",
    buckets: "{ models, datasets }: the names of the two buckets, which must exist",
} as const;

/** `existing.store`: what each kind needs and refuses. */
function storeIssues(raw: Record<string, unknown>): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const existing = rawRecord(raw.existing);
    const store = rawRecord(existing.store);
    const key = (...path: (string | number)[]) => keyPath(["existing", "store", ...path]);
    const keysInConfig = raw.storeCredentials !== undefined;
    if (keysInConfig && store.kind !== "external")
        issues.push({
            key: keyPath(["storeCredentials"]),
            message: "holds the keys of an external store; existing.store.kind is not external: remove it",
        });
    if (store.kind === "seaweedfs" || store.kind === undefined) {
        for (const k of EXTERNAL_ONLY)
            if (store[k] !== undefined)
                issues.push({
                    key: key(k),
                    message:
                        "applies to an external store only (existing.store.kind: external); SeaweedFS is configured by the testbed",
                    value: k === "credentialsSecret" ? undefined : store[k],
                });
        return issues;
    }
    if (store.kind !== "external") return issues; // the schema reports it
    for (const [k, what] of Object.entries(EXTERNAL_REQUIRED))
        if (store[k] === undefined) issues.push({ key: key(k), message: `is required for an external store: ${what}` });
    if ((store.credentialsSecret !== undefined) === keysInConfig)
        issues.push({
            key: key("credentialsSecret"),
            message: keysInConfig
                ? "and the secret storeCredentials both give the store's keys: keep one"
                : "is required for an external store: <namespace>/<name> of the Secret with its keys (or set the secret storeCredentials)",
        });
    if (existing.storeSize !== undefined)
        issues.push({
            key: keyPath(["existing", "storeSize"]),
            message: "sizes the SeaweedFS volume; an external store has none: remove it",
            value: existing.storeSize,
        });
    const egress = store.egress === undefined ? undefined : rawRecord(store.egress);
    if (egress) {
        const cidrs = egress.cidrs !== undefined;
        const pods = egress.namespace !== undefined || egress.podLabels !== undefined;
        if (cidrs === pods)
            issues.push({
                key: key("egress"),
                message:
                    "give either cidrs (address blocks outside the cluster) or namespace and podLabels (pods inside it), not both or neither",
                value: store.egress,
            });
        else if (pods && (egress.namespace === undefined || egress.podLabels === undefined))
            issues.push({
                key: key("egress", egress.namespace === undefined ? "namespace" : "podLabels"),
                message: "an in-cluster store needs both namespace and podLabels (the store's pods)",
            });
    }
    const parts = endpointParts(store.endpoint);
    if (parts && !egress) {
        const inCluster = /\.svc(\.cluster\.local)?$/.test(parts.host);
        if (inCluster)
            issues.push({
                key: key("egress"),
                message:
                    "is required: the endpoint is a Service inside the cluster, so give the store's namespace and podLabels",
                value: undefined,
            });
        else if (parts.ipv4 && isPrivateIpv4(parts.host))
            issues.push({
                key: key("egress"),
                message: `is required: the endpoint ${parts.host} is a private address, so give egress.cidrs (e.g. ${parts.host}/32) or the store's namespace and podLabels`,
            });
    }
    return issues;
}

/** What each add-on's `present` mode needs, and what only `present` takes. */
const PRESENT_FIELDS = {
    monitoring: { required: ["prometheus", "alertmanager"], optional: [] },
    gateway: { required: ["gatewayClassName"], optional: [] },
    tekton: { required: [], optional: ["namespace"] },
} as const;

/** Keys of `monitoring` that configure the stack the testbed installs, and so cannot apply to a present one. */
export const INSTALLED_MONITORING_KEYS = [
    "retention",
    "storageSize",
    "alertmanagerStorageSize",
    "scrapeInterval",
    "prometheusResources",
] as const;

/** `existing.addons`: each add-on's fields per mode, and the config that only an installed add-on can use. */
function addonIssues(raw: Record<string, unknown>): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const addons = rawRecord(rawRecord(raw.existing).addons);
    for (const [name, fields] of Object.entries(PRESENT_FIELDS)) {
        const addon = rawRecord(addons[name]);
        const key = (k: string) => keyPath(["existing", "addons", name, k]);
        if (addon.mode === "present") {
            for (const k of fields.required)
                if (addon[k] === undefined)
                    issues.push({ key: key(k), message: `is required when existing.addons.${name}.mode is present` });
        } else if (addon.mode === "install" || addon.mode === undefined) {
            for (const k of [...fields.required, ...fields.optional])
                if (addon[k] !== undefined)
                    issues.push({
                        key: key(k),
                        message: `applies only when existing.addons.${name}.mode is present (the testbed installs its own)`,
                        value: addon[k],
                    });
        }
    }
    if (rawRecord(addons.monitoring).mode === "present") {
        const monitoring = rawRecord(raw.monitoring);
        for (const k of INSTALLED_MONITORING_KEYS)
            if (monitoring[k] !== undefined)
                issues.push({
                    key: keyPath(["monitoring", k]),
                    message:
                        "configures the monitoring stack the testbed installs; existing.addons.monitoring.mode is present, so your Prometheus's own settings apply: remove it",
                    value: monitoring[k],
                });
    }
    return issues;
}
