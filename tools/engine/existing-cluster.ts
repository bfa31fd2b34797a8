/**
 * An existing cluster as `Pulumi.existing-shared-example.yaml` describes it, on the local control plane
 * (tools/cluster): what its `present` add-ons and its external store provide before the testbed's `pulumi up`.
 * docs/existing-cluster.md says what each `present` add-on must provide; this prepares that, and nothing the
 * testbed creates itself:
 *
 * - the add-ons' CRDs: Prometheus Operator and Gateway API / Envoy Gateway from their Go modules, Tekton's built from
 *   committed facts (tools/cluster/tekton-crds.ts), as the cluster tier installs them;
 * - the namespaces the add-ons run in (`monitoring`, Tekton's controller namespace) and the store's (`storage`);
 * - Tekton's `config-observability` ConfigMap (the testbed patches four keys of it), Envoy Gateway's GatewayClass;
 * - the external store's credentials Secret (`existing.store.credentialsSecret`), with the S3 server's keys.
 *
 * Controllers that would act on these (the operators, Envoy Gateway, Tekton) do not run: no object is reconciled.
 */
import { TEKTON } from "../../contract/versions";
import { addNodes, installCrds } from "../cluster/control-plane";
import type { Kube, KubernetesObject } from "../cluster/kube";
import type { Json } from "../../contract/json";

export interface PresentAddons {
    /** Namespace of the present monitoring stack (the testbed's MONITORING_NAMESPACE). */
    readonly monitoringNamespace: string;
    /** The present Envoy Gateway's GatewayClass (`existing.addons.gateway.gatewayClassName`). */
    readonly gatewayClassName: string;
    /** The external store's credentials Secret (`existing.store.credentialsSecret`), and its keys. */
    readonly storeSecret: { readonly namespace: string; readonly name: string };
    readonly storeKeys: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** The objects an existing cluster with these add-ons already holds (besides CRDs), in apply order. */
export function presentObjects(p: PresentAddons): KubernetesObject[] {
    const ns = (name: string): KubernetesObject => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
    return [
        ns(p.monitoringNamespace),
        ns(TEKTON.pipelines.namespace),
        ns(p.storeSecret.namespace),
        {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: "config-observability", namespace: TEKTON.pipelines.namespace },
            data: { "metrics-protocol": "prometheus" },
        },
        {
            apiVersion: "gateway.networking.k8s.io/v1",
            kind: "GatewayClass",
            metadata: { name: p.gatewayClassName },
            spec: { controllerName: "gateway.envoyproxy.io/gatewayclass-controller" },
        },
        {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: p.storeSecret.name, namespace: p.storeSecret.namespace },
            type: "Opaque",
            stringData: {
                AWS_ACCESS_KEY_ID: p.storeKeys.accessKeyId,
                AWS_SECRET_ACCESS_KEY: p.storeKeys.secretAccessKey,
            },
        },
    ];
}

/**
 * Makes the local control plane the existing cluster of the stack: one system node, the present add-ons (CRDs,
 * namespaces, objects) and the present monitoring stack's Prometheus and Alertmanager pods; returns the CRD count.
 */
export async function prepareExistingCluster(
    kube: Kube,
    present: PresentAddons,
    monitoring: { readonly prometheus: string; readonly alertmanager: string },
): Promise<number> {
    await addNodes(kube, [
        { name: "system", role: "system", labels: {}, taints: [], nodes: 1, gpusPerNode: 0, instanceType: "existing" },
    ]);
    const crds = await preparePresentAddons(kube, present);
    for (const pod of monitoringPods(present.monitoringNamespace, monitoring.prometheus, monitoring.alertmanager))
        await kube.apply(pod, "existing-cluster");
    return crds;
}

/** Installs the CRDs and the objects; returns the CRD count. */
export async function preparePresentAddons(kube: Kube, p: PresentAddons): Promise<number> {
    const crds = await installCrds(kube);
    for (const o of presentObjects(p)) await kube.apply(o, "existing-cluster");
    return crds.reduce((n, c) => n + c.crds, 0);
}

/** A pod standing for one a present controller runs (kwok runs it; the image is never pulled). */
function standInPod(namespace: string, name: string, labels: Record<string, string>): KubernetesObject {
    return {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace, labels: { ...labels, "mlops-testbed/engine-tier": "stand-in" } },
        spec: {
            automountServiceAccountToken: false,
            securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: "RuntimeDefault" } },
            containers: [
                {
                    name: "main",
                    image: "registry.k8s.io/pause:3.10",
                    resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "16Mi" } },
                    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
                },
            ],
        },
    };
}

/** The present monitoring stack's Prometheus and Alertmanager pods, labelled as the Prometheus Operator labels them. */
export function monitoringPods(namespace: string, prometheus: string, alertmanager: string): KubernetesObject[] {
    return [
        standInPod(namespace, `prometheus-${prometheus}-0`, {
            "app.kubernetes.io/name": "prometheus",
            "app.kubernetes.io/instance": prometheus,
        }),
        standInPod(namespace, `alertmanager-${alertmanager}-0`, {
            "app.kubernetes.io/name": "alertmanager",
            "app.kubernetes.io/instance": alertmanager,
        }),
    ];
}

/** Objects of a namespaced kind in every namespace (Kube.list without a namespace lists `default` only). */
export async function listAllNamespaces(kube: Kube, apiVersion: string, kind: string): Promise<Json[]> {
    const namespaced = await kube.path(apiVersion, kind, "-");
    return (await kube.request("GET", namespaced.replace("/namespaces/-/", "/"))).items as Json[];
}

/**
 * What the present controllers do that `pulumi up` waits for, done by a loop while the engine runs: Envoy Gateway
 * runs a proxy pod for every Gateway of its class, labelled with the owning Gateway (the testbed's Services select
 * those labels), and the cluster's load-balancer controller gives every LoadBalancer Service an address (as MetalLB
 * or cloud-provider-kind do). Without them the Kubernetes provider waits for the webhook Service's pods and address
 * until its timeout, as it would on a cluster without a load balancer.
 */
export class PresentControllers {
    private timer: NodeJS.Timeout | undefined;
    private running: Promise<void> = Promise.resolve();
    /** What the loop did, for the report: `gateway pod <ns>/<name>`, `load balancer <ns>/<name>`. */
    readonly actions: string[] = [];
    /** Errors of the loop (reported; a failing loop shows as the engine's wait timing out). */
    readonly errors: string[] = [];

    constructor(
        private readonly kube: Kube,
        private readonly gatewayClassName: string,
        private readonly loadBalancerIp: string,
    ) {}

    start(intervalMs = 1000): void {
        this.timer = setInterval(() => {
            this.running = this.running.then(() =>
                this.reconcile().catch((e: unknown) => {
                    this.errors.push(String(e));
                }),
            );
        }, intervalMs);
    }

    async stop(): Promise<void> {
        clearInterval(this.timer);
        await this.running;
    }

    async reconcile(): Promise<void> {
        for (const gw of await listAllNamespaces(this.kube, "gateway.networking.k8s.io/v1", "Gateway")) {
            if (gw.spec?.gatewayClassName !== this.gatewayClassName || gw.metadata.deletionTimestamp) continue;
            const ns = gw.metadata.namespace as string;
            const name = `envoy-${gw.metadata.name}-0`;
            const existing = await this.kube.list<Json>(
                "v1",
                "Pod",
                ns,
                `gateway.envoyproxy.io/owning-gateway-name=${gw.metadata.name}`,
            );
            if (existing.length > 0) continue;
            await this.kube.create(
                standInPod(ns, name, {
                    "gateway.envoyproxy.io/owning-gateway-name": gw.metadata.name,
                    "gateway.envoyproxy.io/owning-gateway-namespace": ns,
                }),
            );
            this.actions.push(`gateway pod ${ns}/${name}`);
        }
        for (const svc of await listAllNamespaces(this.kube, "v1", "Service")) {
            if (svc.spec?.type !== "LoadBalancer" || (svc.status?.loadBalancer?.ingress ?? []).length > 0) continue;
            const ns = svc.metadata.namespace as string;
            await this.kube.request(
                "PATCH",
                `/api/v1/namespaces/${ns}/services/${svc.metadata.name}/status`,
                { status: { loadBalancer: { ingress: [{ ip: this.loadBalancerIp }] } } },
                "application/merge-patch+json",
            );
            this.actions.push(`load balancer ${ns}/${svc.metadata.name} ${this.loadBalancerIp}`);
        }
    }
}
