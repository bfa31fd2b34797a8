/**
 * prometheus-operator CRD models (@kubernetes-models/prometheus-operator). The package is ES-module only, so it is
 * loaded with a dynamic import from these CommonJS tests.
 */
export type PrometheusOperatorModels = typeof import("@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1", { with: { "resolution-mode": "import" } });

export function prometheusOperatorModels(): Promise<PrometheusOperatorModels> {
    return import("@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1");
}

/** Validates a PrometheusRule, ServiceMonitor or PodMonitor object against its CRD schema; throws on the first error. */
export async function validateMonitoringObject(obj: { kind: string } & Record<string, unknown>): Promise<void> {
    const models = await prometheusOperatorModels();
    const Model = { PrometheusRule: models.PrometheusRule, ServiceMonitor: models.ServiceMonitor, PodMonitor: models.PodMonitor }[obj.kind];
    if (!Model) throw new Error(`no prometheus-operator model for kind ${obj.kind}`);
    new Model(obj as never).validate();
}
