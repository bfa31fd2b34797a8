import * as assert from "node:assert/strict";
import { SYSTEM_NODE_LABELS } from "../aws/node-groups";
import { routeName } from "./model-routing";
import { modelSchema } from "../../contract/config/models";
import { CHARTS } from "../../contract/versions";
import type { Plan } from "../../tools/mock-runtime";
import { descendantsOf, findResource, planStack, resourcesOfType } from "../../test/harness";
import { objectsOfKind, schemaErrors } from "../../test/k8s-objects";
import { MODELS } from "../../test/model-fixtures";
import type { Json } from "../../test/json";

describe("ModelRouting (Envoy Gateway, Gateway API)", () => {
    let plan: Plan;
    before(async () => {
        plan = withoutTriggers(await planStack("dev", { models: MODELS }));
    });
    /** The plan without the triggers' webhook gateway (its own Gateway, route and grant; see pipelines/install/triggers.spec.ts). */
    function withoutTriggers(full: Plan): Plan {
        const triggers = findResource(full, "mlops-testbed:pipelines:PipelineTriggers", "triggers");
        const theirs = new Set(descendantsOf(full, triggers.urn).map((r) => r.urn));
        return { ...full, resources: full.resources.filter((r) => !theirs.has(r.urn)) };
    }
    const route = (model: string) => {
        const routes = objectsOfKind(plan, "HTTPRoute").filter(
            (r) => r.metadata.labels?.["mlops-testbed/model"] === model,
        );
        assert.equal(routes.length, 1, `one route for ${model}`);
        return routes[0];
    };
    const refs = (model: string) => route(model).spec.rules[0].backendRefs.map((b: Json) => [b.namespace, b.weight]);

    it("installs the pinned Envoy Gateway chart from its OCI registry into the gateway namespace, after the cluster is ready", () => {
        const release = findResource(plan, "kubernetes:helm.sh/v3:Release", "model-routing-envoy-gateway");
        assert.equal(release.inputs.chart, "oci://docker.io/envoyproxy/gateway-helm");
        assert.equal(release.inputs.version, CHARTS.envoyGateway.version);
        assert.match(String(release.inputs.version), /^v\d+\.\d+\.\d+$/);
        assert.equal(release.inputs.namespace, "gateway");
        assert.ok(
            release.dependsOn.some((u) => u.includes("NodeGroup") || u.includes("nvidia")),
            "waits for platform.clusterReady",
        );
        const values = release.inputs.values as Json;
        assert.deepEqual(Object.keys(values).sort(), ["certgen", "deployment"]);
        assert.deepEqual(values.deployment.pod.nodeSelector, SYSTEM_NODE_LABELS, "controller on system nodes");
        assert.deepEqual(values.certgen.job.nodeSelector, SYSTEM_NODE_LABELS, "certgen job on system nodes");
    });

    it("declares a GatewayClass handled by Envoy Gateway, its EnvoyProxy and one Gateway accepting routes from its own namespace only", () => {
        const [cls] = objectsOfKind(plan, "GatewayClass");
        assert.equal(cls.spec.controllerName, "gateway.envoyproxy.io/gatewayclass-controller");
        const [proxy] = objectsOfKind(plan, "EnvoyProxy", "gateway");
        assert.deepEqual(cls.spec.parametersRef, {
            group: "gateway.envoyproxy.io",
            kind: "EnvoyProxy",
            name: proxy.metadata.name,
            namespace: "gateway",
        });
        assert.deepEqual(proxy.spec.provider.kubernetes.envoyService, { name: "models-gateway", type: "ClusterIP" });
        assert.equal(proxy.spec.provider.kubernetes.envoyDeployment.replicas, 1);
        const gateways = objectsOfKind(plan, "Gateway");
        assert.equal(gateways.length, 1);
        const [gw] = gateways;
        assert.equal(gw.metadata.namespace, "gateway");
        assert.equal(gw.spec.gatewayClassName, cls.metadata.name);
        assert.deepEqual(
            gw.spec.listeners.map((l: Json) => [l.name, l.protocol, l.port, l.allowedRoutes.namespaces.from]),
            [["http", "HTTP", 80, "Same"]],
        );
    });

    it("takes the proxy replicas from config (prod: 2)", async () => {
        const prod = await planStack("prod");
        assert.equal(
            objectsOfKind(prod, "EnvoyProxy", "gateway")[0].spec.provider.kubernetes.envoyDeployment.replicas,
            2,
        );
    });

    it("creates one HTTPRoute per model in the gateway namespace, under /models/<model> with the prefix stripped", () => {
        const routes = objectsOfKind(plan, "HTTPRoute");
        assert.equal(routes.length, MODELS.length);
        for (const m of MODELS) {
            const r = route(m.name);
            assert.equal(r.metadata.namespace, "gateway");
            assert.match(r.metadata.name!, new RegExp(`^${m.name}-[0-9a-f]{8}$`));
            assert.deepEqual(r.spec.parentRefs, [
                { group: "gateway.networking.k8s.io", kind: "Gateway", name: "models", sectionName: "http" },
            ]);
            assert.deepEqual(r.spec.rules[0].matches, [{ path: { type: "PathPrefix", value: `/models/${m.name}` } }]);
            assert.deepEqual(r.spec.rules[0].filters[0], {
                type: "URLRewrite",
                urlRewrite: { path: { type: "ReplacePrefixMatch", replacePrefixMatch: "/" } },
            });
        }
    });

    it("canary: every version is a backend with its configured weight", () => {
        assert.deepEqual(refs("iris"), [
            ["iris-v1", 80],
            ["iris-v2", 15],
            ["iris-v3", 5],
        ]);
        assert.equal(route("iris").spec.rules[0].filters.length, 1, "no mirror");
    });

    it("single: the one version gets 100", () => {
        assert.deepEqual(refs("digits"), [["digits-v1", 100]]);
    });

    it("blue-green: all traffic on one color, the other standing by at 0", () => {
        assert.deepEqual(refs("churn"), [
            ["churn-blue", 0],
            ["churn-green", 100],
        ]);
    });

    it("shadow: the serving version gets all live traffic and a RequestMirror per other version", () => {
        const r = route("fraud");
        assert.deepEqual(refs("fraud"), [["fraud-v2", 100]]);
        const mirrors = r.spec.rules[0].filters
            .filter((f: Json) => f.type === "RequestMirror")
            .map((f: Json) => f.requestMirror.backendRef);
        assert.deepEqual(mirrors, [
            { name: "model-server", namespace: "fraud-v1", port: 8080 },
            { name: "model-server", namespace: "fraud-v3", port: 8080 },
        ]);
    });

    it("admits every cross-namespace backend with a ReferenceGrant in the version namespace", () => {
        const grants = objectsOfKind(plan, "ReferenceGrant");
        for (const r of objectsOfKind(plan, "HTTPRoute")) {
            const rule = r.spec.rules[0];
            const targets = [
                ...rule.backendRefs,
                ...rule.filters.filter((f: Json) => f.requestMirror).map((f: Json) => f.requestMirror.backendRef),
            ];
            for (const t of targets) {
                const grant = grants.find((g) => g.metadata.namespace === t.namespace);
                assert.ok(grant, `ReferenceGrant in ${t.namespace}`);
                assert.deepEqual(grant.spec.from, [
                    { group: "gateway.networking.k8s.io", kind: "HTTPRoute", namespace: r.metadata.namespace },
                ]);
                assert.deepEqual(grant.spec.to, [{ group: "", kind: "Service", name: t.name }]);
                assert.ok(
                    objectsOfKind(plan, "Service", t.namespace).some(
                        (s) => s.metadata.name === t.name && s.spec.ports.some((p: Json) => p.port === t.port),
                    ),
                );
            }
        }
    });

    it("validates the Gateway API objects against @kubernetes-models/gateway-api", async () => {
        const objects = ["GatewayClass", "Gateway", "HTTPRoute", "ReferenceGrant"].flatMap((k) =>
            objectsOfKind(plan, k),
        );
        assert.equal(objects.length, 1 + 1 + MODELS.length + 9);
        assert.deepEqual((await Promise.all(objects.map(schemaErrors))).filter(Boolean), []);
    });

    it("rejects a route the Gateway API schema refuses (the check is not vacuous)", async () => {
        const bad = {
            ...route("iris"),
            spec: {
                ...route("iris").spec,
                rules: [
                    {
                        ...route("iris").spec.rules[0],
                        backendRefs: [{ name: "model-server", namespace: "iris-v1", port: 8080, weight: -1 }],
                    },
                ],
            },
        };
        assert.notEqual(await schemaErrors(bad), "");
    });

    describe("the program does not fight the pipelines over weights", () => {
        it("ignores changes to the rules of an existing route", () => {
            for (const r of resourcesOfType(plan, "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"))
                assert.deepEqual(r.ignoreChanges, ["spec.rules"]);
        });

        it("keeps a route's name (so nothing changes) when only the weights change", () => {
            const iris = modelSchema.parse(MODELS[0]);
            const reweighted = modelSchema.parse({
                ...MODELS[0],
                traffic: { strategy: "canary", weights: { v1: 10, v2: 10, v3: 80 } },
            });
            assert.equal(routeName(reweighted), routeName(iris));
        });

        it("changes nothing but the ignored rules when only the weights change in config", async () => {
            const reweighted = withoutTriggers(
                await planStack("dev", {
                    models: MODELS.map((m) =>
                        m.name === "iris"
                            ? { ...m, traffic: { strategy: "canary", weights: { v1: 10, v2: 10, v3: 80 } } }
                            : m,
                    ),
                }),
            );
            const strip = (p: Plan) =>
                p.resources.map((r) => ({
                    urn: r.urn,
                    inputs: r.type.endsWith(":HTTPRoute")
                        ? { ...r.inputs, spec: { ...(r.inputs.spec as Json), rules: null } }
                        : r.inputs,
                }));
            assert.deepEqual(strip(reweighted), strip(plan));
        });

        it("gives a new route (created from config, then the old one deleted) when versions or strategy change", () => {
            const iris = modelSchema.parse(MODELS[0]);
            const fewer = modelSchema.parse({
                ...MODELS[0],
                versions: MODELS[0].versions.slice(0, 2),
                traffic: { strategy: "canary", weights: { v1: 50, v2: 50 } },
            });
            const shadow = modelSchema.parse({ ...MODELS[0], traffic: { strategy: "shadow", shadowOf: "v1" } });
            assert.notEqual(routeName(fewer), routeName(iris));
            assert.notEqual(routeName(shadow), routeName(iris));
            const blueGreen = modelSchema.parse({
                ...MODELS[0],
                traffic: { strategy: "blue-green", weights: { v1: 100 } },
            });
            assert.notEqual(routeName(blueGreen), routeName(iris), "the strategy label is part of the route too");
        });
    });
});
