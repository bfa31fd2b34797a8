import * as assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { AZURE_ROLES } from "../../components/azure/roles";
import { DATASET_EVENTS_DEAD_LETTER_CONTAINER, DATASET_EVENTS_QUEUE } from "../../components/azure/dataset-events";
import { IMAGES } from "../../contract/versions";
import { PROMOTION_SCRIPTS_CONFIGMAP, promotionScripts } from "../promotion/task";
import { GIT_WEBHOOK_PATH, GIT_WEBHOOK_SECRET, SOURCE_HEADER } from "../triggers/triggers";
import type { Plan } from "../../tools/mock-runtime";
import { descendantsOf, findResource, jsonInput, planStack, resourcesOfType } from "../../test/harness";
import { objectsOfKind, schemaErrors } from "../../test/k8s-objects";
import { lint, templateProblems } from "../../test/tekton-wiring";
import type { Json } from "../../test/json";
import * as fs from "node:fs";
import * as path from "node:path";
import { EVENT_GRID_CONSUMER_SCRIPT } from "../../components/azure/dataset-events";
import { FILER_CONSUMER_SCRIPT } from "../../components/existing/dataset-events";
import { DATASET_CONSUMER } from "../../contract/names";
import { WEBHOOK_GATEWAY } from "./webhook-gateway";
import { fire, type SecretObject } from "../../tools/study/triggers";
import { PROJECT_ROOT } from "../../tools/stack";

describe("PipelineTriggers and Promotion in the program (dev stack)", () => {
    let plan: Plan;
    before(async () => {
        // Secrets in the clear too: the webhook test signs with the key the plan generates.
        plan = await planStack("dev", {}, { revealSecrets: true });
    });
    const one = (kind: string, name: string, namespace?: string) => {
        const found = objectsOfKind(plan, kind, namespace).filter((o) => o.metadata.name === name);
        assert.equal(found.length, 1, `one ${kind} ${name}`);
        return found[0];
    };

    it("the webhook gateway and the dataset consumer moved into components of their own without replacing anything", () => {
        // Each object answers to the URN it had as a direct child of the triggers component (its alias), so a stack
        // deployed before the move keeps them: above all the load balancer, whose address GitHub calls.
        const before = (type: string, name: string) =>
            `urn:pulumi:dev::mlops-testbed::mlops-testbed:pipelines:PipelineTriggers$${type}::${name}`;
        const moved: [string, string, string][] = [
            [
                "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy",
                "triggers-webhook-proxy",
                "triggers-webhook-proxy",
            ],
            ["kubernetes:gateway.networking.k8s.io/v1:Gateway", "triggers-webhook-gateway", "triggers-webhook-gateway"],
            ["kubernetes:core/v1:Service", "triggers-webhook-public", "triggers-webhook-public"],
            [
                "kubernetes:gateway.networking.k8s.io/v1:ReferenceGrant",
                "triggers-webhook-grant",
                "triggers-webhook-grant",
            ],
            [
                "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
                "triggers-webhook-route",
                "triggers-git-webhook-route",
            ],
            ["kubernetes:core/v1:ServiceAccount", "triggers-dataset-events-sa", "triggers-dataset-events-sa"],
            [
                "kubernetes:networking.k8s.io/v1:NetworkPolicy",
                "triggers-dataset-events-egress",
                "triggers-dataset-events-egress",
            ],
            ["kubernetes:apps/v1:Deployment", "triggers-dataset-events-deployment", "triggers-dataset-events"],
        ];
        for (const [type, name, old] of moved) {
            const r = findResource(plan, type, name);
            assert.notEqual(r.urn, before(type, old), `${name} did move`);
            assert.ok(r.aliases.includes(before(type, old)), `${name} answers to ${before(type, old)}: ${r.aliases}`);
        }
    });

    it("the webhook's Gateway and proxies wait for the model gateway, its load balancer for the namespace", () => {
        // A component in dependsOn stands for its resources: the gateway namespace is one of the model routing's.
        const routing = findResource(plan, "kubernetes:core/v1:Namespace", "model-routing-ns");
        const tektonInstall = findResource(plan, "kubernetes:yaml/v2:ConfigFile", "tekton-pipelines");
        const envoyGateway = findResource(plan, "kubernetes:helm.sh/v3:Release", "model-routing-envoy-gateway");
        const lb = findResource(plan, "kubernetes:core/v1:Service", "triggers-webhook-public");
        assert.deepEqual(lb.dependsOn, [routing.urn], "the load balancer waits for its namespace only");
        assert.ok(!lb.dependsOn.includes(envoyGateway.urn));
        for (const [type, name] of [
            ["kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy", "triggers-webhook-proxy"],
            ["kubernetes:gateway.networking.k8s.io/v1:Gateway", "triggers-webhook-gateway"],
        ] as const) {
            const r = findResource(plan, type, name);
            assert.ok(r.dependsOn.includes(routing.urn), `${name} waits for the model gateway`);
            assert.ok(!r.dependsOn.includes(tektonInstall.urn), `${name} does not wait for the Tekton install`);
        }
        // The route to the listener does wait for it.
        const route = findResource(plan, "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", "triggers-webhook-route");
        assert.ok(route.dependsOn.includes(tektonInstall.urn));
    });

    it("the EventListener has the three triggers of every configured model", () => {
        const el = one("EventListener", "mlops-testbed", "pipelines");
        assert.deepEqual(
            el.spec.triggers.map((t: Json) => t.name),
            ["iris", "digits"].flatMap((m) => [`${m}-git-push`, `${m}-dataset-change`, `${m}-retrain-alert`]),
        );
        assert.equal(el.spec.serviceAccountName, "triggers");
        assert.deepEqual(
            objectsOfKind(plan, "TriggerBinding", "pipelines")
                .map((b) => b.metadata.name)
                .sort(),
            ["dataset-change", "git-push", "retrain-alert"],
        );
        assert.equal(
            one("TriggerTemplate", "train-and-deploy", "pipelines").spec.resourcetemplates[0].kind,
            "PipelineRun",
        );
    });

    it("the planned triggers objects, promote Task and pipelines pass tekton-lint and the template's run the wiring checks", async () => {
        const pipelines = objectsOfKind(plan, "Pipeline", "pipelines");
        const template = one("TriggerTemplate", "train-and-deploy", "pipelines");
        assert.deepEqual(templateProblems(template, pipelines), []);
        const run = template.spec.resourcetemplates[0];
        assert.equal(run.spec.params.find((p: Json) => p.name === "git-url").value, "$(tt.params.git-url)");
        assert.equal(
            template.spec.params.find((p: Json) => p.name === "git-url").default,
            "https://github.com/example-org/models.git",
            "pipelines.sourceRepository",
        );
        const triggerObjects = ["TriggerBinding", "TriggerTemplate", "EventListener"].flatMap((k) =>
            objectsOfKind(plan, k, "pipelines"),
        );
        assert.equal(triggerObjects.length, 5);
        const problems = await lint([...objectsOfKind(plan, "Task", "pipelines"), ...pipelines, ...triggerObjects]);
        assert.deepEqual(problems, []);
    });

    it("without pipelines.sourceRepository only a push starts a delivery", async () => {
        const bare = await planStack("dev", { pipelines: { keepRuns: 20 } });
        const el = objectsOfKind(bare, "EventListener", "pipelines")[0];
        assert.deepEqual(
            el.spec.triggers.map((t: Json) => t.name),
            ["iris-git-push", "digits-git-push"],
        );
    });

    it("generates the webhook's HMAC key, keeps it in a Secret and exports it only as a secret", () => {
        const pw = findResource(plan, "random:index/randomPassword:RandomPassword", "triggers-git-secret");
        assert.equal(pw.inputs.length, 40);
        const secret = one("Secret", GIT_WEBHOOK_SECRET.name, "pipelines");
        assert.ok(secret.stringData, "the key is set");
        assert.equal(plan.outputs.gitWebhookSecret, "[secret]");
        assert.match(String(plan.outputs.gitWebhookUrl), new RegExp(`${GIT_WEBHOOK_PATH}$`));
    });

    it("the git triggers verify pushes with the generated key: signed with it a push starts a run, otherwise nothing", () => {
        const pw = findResource(plan, "random:index/randomPassword:RandomPassword", "triggers-git-secret");
        const secretResource = findResource(plan, "kubernetes:core/v1:Secret", "triggers-git-webhook");
        assert.deepEqual(secretResource.propertyDependencies.stringData, [pw.urn], "the key is the generated password");
        assert.ok(secretResource.secretInputs.includes("stringData"));
        const applied = secretResource.revealedInputs as Json;
        const key: string = applied.stringData[GIT_WEBHOOK_SECRET.key];
        assert.equal(typeof key, "string");
        assert.equal(key.length, 40);
        const cluster: SecretObject[] = [{ metadata: applied.metadata, stringData: applied.stringData }];

        const listener = one("EventListener", "mlops-testbed", "pipelines");
        for (const t of listener.spec.triggers.filter((x: Json) => x.name.endsWith("-git-push"))) {
            const github = t.interceptors.find((i: Json) => i.ref.name === "github");
            const params = Object.fromEntries(github.params.map((p: Json) => [p.name, p.value]));
            assert.deepEqual(
                params.secretRef,
                { secretName: applied.metadata.name, secretKey: GIT_WEBHOOK_SECRET.key },
                `${t.name} names the generated Secret and its key`,
            );
        }
        const objects = {
            bindings: objectsOfKind(plan, "TriggerBinding", "pipelines"),
            templates: objectsOfKind(plan, "TriggerTemplate", "pipelines"),
        };
        const body = fs.readFileSync(path.join(PROJECT_ROOT, "pipelines/triggers/samples/github-push.json"), "utf8");
        const push = (headers: Record<string, string>) =>
            fire(
                listener,
                objects,
                {
                    body,
                    headers: { "content-type": "application/json", "x-github-event": "push", ...headers },
                },
                cluster,
            ).map((f) => f.trigger);
        const hmac = (secret: string) => `sha256=${createHmac("sha256", secret).update(body, "utf8").digest("hex")}`;
        assert.deepEqual(push({ "x-hub-signature-256": hmac(key) }), ["iris-git-push"]);
        assert.deepEqual(push({ "x-hub-signature-256": hmac(`${key}x`) }), [], "a wrong key");
        assert.deepEqual(push({}), [], "no signature");
    });

    it("exposes exactly POST /hooks/git to the outside, stamped with the source header, through its own gateway", async () => {
        const gw = one("Gateway", WEBHOOK_GATEWAY.name, "gateway");
        assert.deepEqual(gw.spec.infrastructure.parametersRef, {
            group: "gateway.envoyproxy.io",
            kind: "EnvoyProxy",
            name: WEBHOOK_GATEWAY.proxyConfig,
        });
        assert.equal(
            one("EnvoyProxy", WEBHOOK_GATEWAY.proxyConfig, "gateway").spec.provider.kubernetes.envoyService.type,
            "ClusterIP",
        );
        const route = one("HTTPRoute", "git-webhook", "gateway");
        assert.deepEqual(
            route.spec.parentRefs.map((p: Json) => p.name),
            [WEBHOOK_GATEWAY.name],
        );
        const [rule] = route.spec.rules;
        assert.deepEqual(rule.matches, [{ path: { type: "Exact", value: GIT_WEBHOOK_PATH }, method: "POST" }]);
        assert.deepEqual(rule.filters[0].requestHeaderModifier.set, [
            { name: SOURCE_HEADER.name, value: SOURCE_HEADER.value },
        ]);
        assert.deepEqual(rule.backendRefs, [{ name: "el-mlops-testbed", namespace: "pipelines", port: 8080 }]);
        const grant = one("ReferenceGrant", "allow-git-webhook-route", "pipelines");
        assert.deepEqual(grant.spec.to, [{ group: "", kind: "Service", name: "el-mlops-testbed" }]);
        const lb = one("Service", WEBHOOK_GATEWAY.publicServiceName, "gateway");
        assert.equal(lb.spec.type, "LoadBalancer");
        assert.deepEqual(lb.spec.selector, WEBHOOK_GATEWAY.proxyPodLabels);
        assert.deepEqual(
            lb.spec.ports.map((p: Json) => p.targetPort),
            [WEBHOOK_GATEWAY.port],
        );
        const publicServices = objectsOfKind(plan, "Service").filter(
            (s) => s.spec?.type === "LoadBalancer" || s.spec?.type === "NodePort",
        );
        assert.deepEqual(
            publicServices.map((s) => s.metadata.name),
            [WEBHOOK_GATEWAY.publicServiceName],
            "nothing else is exposed",
        );
        assert.deepEqual((await Promise.all([gw, route, grant].map(schemaErrors))).filter(Boolean), []);
    });

    it("AWS: object creations in the datasets bucket go to a queue only that rule may write to", () => {
        const rule = findResource(plan, "aws:cloudwatch/eventRule:EventRule", "aws-dataset-events-rule");
        const pattern = jsonInput(rule, "eventPattern");
        assert.deepEqual(pattern.source, ["aws.s3"]);
        assert.deepEqual(pattern["detail-type"], ["Object Created"]);
        // The mock engine names a bucket `<resource name>-example`.
        findResource(plan, "aws:s3/bucket:Bucket", "aws-store-datasets-bucket");
        assert.deepEqual(pattern.detail.bucket.name, ["aws-store-datasets-bucket-example"]);
        const policy = jsonInput(
            findResource(plan, "aws:sqs/queuePolicy:QueuePolicy", "aws-dataset-events-policy"),
            "policy",
        );
        assert.deepEqual(
            policy.Statement.map((s: Json) => [s.Principal.Service, s.Action, Object.keys(s.Condition.ArnEquals)]),
            [["events.amazonaws.com", "sqs:SendMessage", ["aws:SourceArn"]]],
        );
        const target = findResource(plan, "aws:cloudwatch/eventTarget:EventTarget", "aws-dataset-events-target");
        assert.ok(target.inputs.arn, "the target is the queue");
        assert.ok(
            findResource(plan, "aws:sqs/queue:Queue", "aws-dataset-events-queue").inputs.redrivePolicy,
            "dead-letters what cannot be forwarded",
        );
    });

    it("AWS: the consumer's identity may only read and delete from that queue", () => {
        const role = jsonInput(
            findResource(plan, "aws:iam/rolePolicy:RolePolicy", "aws-triggers-dataset-events-policy"),
            "policy",
        );
        assert.deepEqual(
            role.Statement.map((s: Json) => s.Action),
            [["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]],
        );
        const trust = jsonInput(
            findResource(plan, "aws:iam/role:Role", "aws-triggers-dataset-events-role"),
            "assumeRolePolicy",
        );
        assert.match(JSON.stringify(trust), /system:serviceaccount:pipelines:dataset-events/);
        const dep = one("Deployment", DATASET_CONSUMER.name, "pipelines");
        assert.deepEqual(
            dep.spec.template.metadata.labels["app.kubernetes.io/name"],
            DATASET_CONSUMER.podLabels["app.kubernetes.io/name"],
        );
        const env = Object.fromEntries(dep.spec.template.spec.containers[0].env.map((e: Json) => [e.name, e.value]));
        assert.equal(env.LISTENER_URL, "http://el-mlops-testbed.pipelines.svc.cluster.local:8080");
    });

    it("ships the promotion script in its ConfigMap and runs as the deployer, which may patch routes in the gateway namespace and nothing cluster-wide", () => {
        assert.deepEqual(one("ConfigMap", PROMOTION_SCRIPTS_CONFIGMAP, "pipelines").data, promotionScripts());
        assert.equal(one("Task", "promote", "pipelines").spec.steps[0].volumeMounts[0].mountPath, "/promotion");
        // The step reads and patches the model routes by name: the deployer's route-updater Role allows that in the
        // gateway namespace (test/step-rbac.spec.ts checks every call against it).
        const role = one("Role", "pipelines-route-updater", "gateway");
        const verbs = role.rules.filter((r: Json) => r.resources.includes("httproutes")).flatMap((r: Json) => r.verbs);
        for (const v of ["get", "patch"]) assert.ok(verbs.includes(v), v);
        const binding = one("RoleBinding", "pipelines-route-updater", "gateway");
        assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: "deployer", namespace: "pipelines" }]);
        assert.equal(
            resourcesOfType(plan, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding").filter((r) =>
                JSON.stringify(r.inputs).includes("deployer"),
            ).length,
            0,
            "nothing cluster-wide for the deployer",
        );
    });
});

describe("Dataset changes on Azure and existing clusters (example stacks)", () => {
    const consumerOf = (plan: Plan) => {
        const found = objectsOfKind(plan, "Deployment", "pipelines").filter(
            (o) => o.metadata.name === DATASET_CONSUMER.name,
        );
        assert.equal(found.length, 1, "one consumer");
        return found[0];
    };
    const egressOf = (plan: Plan) =>
        objectsOfKind(plan, "NetworkPolicy", "pipelines").filter(
            (o) => o.metadata.name === `${DATASET_CONSUMER.name}-egress`,
        );
    const pinned = new Set<string>(Object.values(IMAGES));
    const read = (file: string) => fs.readFileSync(file, "utf8");
    const CONTRACT_HELPER = path.join(__dirname, "..", "..", "contract", "dataset_change_event.py");
    const scriptsOf = (plan: Plan) =>
        objectsOfKind(plan, "ConfigMap", "pipelines").find(
            (o) => o.metadata.name === DATASET_CONSUMER.scripts.configMap,
        )?.data;

    describe("Azure: Event Grid → Storage Queue", () => {
        let plan: Plan;
        before(async () => {
            plan = await planStack("azure-example");
        });

        it("subscribes the storage account's system topic to BlobCreated in the datasets container only, into the queue", () => {
            const topic = findResource(plan, "azure-native:eventgrid:SystemTopic", "azure-dataset-events-topic")
                .inputs as Json;
            assert.equal(topic.topicType, "Microsoft.Storage.StorageAccounts");
            assert.match(topic.source, /\/providers\/Microsoft\.Storage\/storageAccounts\/[a-z0-9]+$/);
            assert.deepEqual(topic.identity, { type: "SystemAssigned" });
            const sub = findResource(
                plan,
                "azure-native:eventgrid:SystemTopicEventSubscription",
                "azure-dataset-events-subscription",
            ).inputs as Json;
            assert.deepEqual(sub.filter, {
                includedEventTypes: ["Microsoft.Storage.BlobCreated"],
                subjectBeginsWith: "/blobServices/default/containers/datasets/",
                isSubjectCaseSensitive: true,
            });
            assert.equal(sub.deliveryWithResourceIdentity.destination.endpointType, "StorageQueue");
            assert.equal(sub.deliveryWithResourceIdentity.destination.queueName, DATASET_EVENTS_QUEUE);
            assert.deepEqual(
                sub.deadLetterWithResourceIdentity.deadLetterDestination.blobContainerName,
                DATASET_EVENTS_DEAD_LETTER_CONTAINER,
            );
            assert.deepEqual(sub.retryPolicy, { maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 1440 });
            const deadLetters = findResource(
                plan,
                "azure-native:storage:BlobContainer",
                "azure-dataset-events-deadletter",
            ).inputs as Json;
            assert.equal(deadLetters.publicAccess, "None");
        });

        it("Event Grid's identity may only send to the queue and write dead letters", () => {
            const events = findResource(plan, "mlops-testbed:azure:DatasetEvents", "azure-dataset-events");
            const assigned = descendantsOf(plan, events.urn)
                .filter((r) => r.type === "azure-native:authorization:RoleAssignment")
                .map((r) => r.inputs as Json);
            assert.equal(new Set(assigned.map((a) => a.principalId)).size, 1, "one principal: the topic's identity");
            assert.deepEqual(
                assigned.map((a) => [
                    a.scope.replace(/^.*\/storageAccounts\/[a-z0-9]+/, "<account>"),
                    a.roleDefinitionId.split("/").pop(),
                ]),
                [
                    [
                        "<account>/queueServices/default/queues/dataset-events",
                        AZURE_ROLES.storageQueueDataMessageSender,
                    ],
                    [
                        `<account>/blobServices/default/containers/${DATASET_EVENTS_DEAD_LETTER_CONTAINER}`,
                        AZURE_ROLES.storageBlobDataContributor,
                    ],
                ],
            );
        });

        it("the consumer's identity has one role, Storage Queue Data Message Processor, scoped to the queue", () => {
            const queueId = `${findResource(plan, "azure-native:storage:StorageAccount", "azure-store-account").inputs.accountName}/queueServices/default/queues/${DATASET_EVENTS_QUEUE}`;
            const identity = findResource(
                plan,
                "mlops-testbed:azure:WorkloadIdentity",
                "azure-triggers-dataset-events",
            );
            const assigned = descendantsOf(plan, identity.urn).filter(
                (r) => r.type === "azure-native:authorization:RoleAssignment",
            );
            assert.deepEqual(
                assigned.map((r) => [
                    String((r.inputs as Json).scope).replace(/^.*\/storageAccounts\//, ""),
                    String((r.inputs as Json).roleDefinitionId)
                        .split("/")
                        .pop(),
                ]),
                [[queueId, AZURE_ROLES.storageQueueDataMessageProcessor]],
            );
            const federation = descendantsOf(plan, identity.urn).find(
                (r) => r.type === "azure-native:managedidentity:FederatedIdentityCredential",
            )!;
            assert.equal((federation.inputs as Json).subject, "system:serviceaccount:pipelines:dataset-events");
        });

        it("the consumer polls the queue with a pinned image and its workload identity, and may only reach HTTPS outside, DNS and the listener", () => {
            const dep = consumerOf(plan);
            const [c] = dep.spec.template.spec.containers;
            assert.ok(pinned.has(c.image), c.image);
            assert.equal(c.image, IMAGES.python);
            assert.equal(dep.spec.template.metadata.labels["azure.workload.identity/use"], "true");
            const env = Object.fromEntries(c.env.map((e: Json) => [e.name, e.value]));
            assert.match(
                env.QUEUE_URL,
                new RegExp(`^https://[a-z0-9]+\\.queue\\.core\\.windows\\.net/${DATASET_EVENTS_QUEUE}$`),
            );
            assert.equal(env.DATASETS_CONTAINER, "datasets");
            assert.deepEqual(c.command.slice(-1), [`${DATASET_CONSUMER.scripts.mountPath}/event_grid.py`]);
            assert.ok(
                c.volumeMounts.some(
                    (m: Json) => m.mountPath === DATASET_CONSUMER.scripts.mountPath && m.readOnly === true,
                ),
            );
            // The platform's script and the contract's helper it imports, as they are in the repository.
            assert.deepEqual(scriptsOf(plan), {
                "dataset_change_event.py": read(CONTRACT_HELPER),
                "event_grid.py": read(EVENT_GRID_CONSUMER_SCRIPT),
            });
            const [policy] = egressOf(plan);
            assert.deepEqual(policy.spec.egress[1].ports, [{ protocol: "TCP", port: 443 }]);
            assert.equal(policy.spec.egress.length, 3);
        });
    });

    describe("existing cluster: SeaweedFS filer metadata events", () => {
        let plan: Plan;
        before(async () => {
            plan = await planStack("existing-example");
        });

        it("tails the filer under the datasets bucket with the pinned SeaweedFS image and forwards with the pinned Python", async () => {
            const dep = consumerOf(plan);
            const containers = dep.spec.template.spec.containers;
            assert.deepEqual(
                containers.map((c: Json) => [c.name, c.image]),
                [
                    ["tail", IMAGES.seaweedfs],
                    ["forward", IMAGES.python],
                ],
            );
            const env = (c: Json) => Object.fromEntries(c.env.map((e: Json) => [e.name, e.value]));
            assert.equal(env(containers[0]).FILER, "seaweedfs-filer.object-store.svc.cluster.local:8888");
            assert.equal(env(containers[0]).PATH_PREFIX, "/buckets/datasets/");
            assert.match(
                containers[0].command[2],
                /weed filer\.meta\.tail -filer="\$FILER" -pathPrefix="\$PATH_PREFIX"/,
            );
            assert.equal(env(containers[0]).EVENTS_FIFO, env(containers[1]).EVENTS_FIFO);
            assert.equal(env(containers[1]).LISTENER_URL, "http://el-mlops-testbed.pipelines.svc.cluster.local:8080");
            assert.deepEqual(containers[1].command, ["python", "-u", "/opt/dataset-events/seaweedfs_filer.py"]);
            assert.deepEqual(scriptsOf(plan), {
                "dataset_change_event.py": read(CONTRACT_HELPER),
                "seaweedfs_filer.py": read(FILER_CONSUMER_SCRIPT),
            });
            for (const c of containers)
                assert.deepEqual(c.securityContext, {
                    allowPrivilegeEscalation: false,
                    readOnlyRootFilesystem: true,
                    capabilities: { drop: ["ALL"] },
                });
            assert.equal(await schemaErrors(dep), "");
        });

        it("has no cloud or store identity, and reaches only the filer's gRPC port, DNS and the listener", () => {
            assert.equal(
                resourcesOfType(plan, "mlops-testbed:existing:StoreIdentity").filter((r) =>
                    r.name.includes("dataset-events"),
                ).length,
                0,
            );
            const sa = objectsOfKind(plan, "ServiceAccount", "pipelines").find(
                (o) => o.metadata.name === DATASET_CONSUMER.name,
            );
            assert.equal(sa?.metadata.annotations, undefined);
            assert.equal(
                consumerOf(plan).spec.template.spec.containers.some((c: Json) => c.envFrom),
                false,
            );
            const [policy] = egressOf(plan);
            assert.deepEqual(policy.spec.policyTypes, ["Egress"]);
            assert.deepEqual(
                policy.spec.egress.map((r: Json) => r.ports),
                [
                    [
                        { protocol: "UDP", port: 53 },
                        { protocol: "TCP", port: 53 },
                    ],
                    [{ protocol: "TCP", port: 18888 }],
                    [{ protocol: "TCP", port: 8080 }],
                ],
            );
            assert.deepEqual(policy.spec.egress[1].to, [
                {
                    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "object-store" } },
                    podSelector: {
                        matchLabels: { "app.kubernetes.io/name": "seaweedfs", "app.kubernetes.io/component": "filer" },
                    },
                },
            ]);
            assert.deepEqual(policy.spec.egress[2].to, [
                { podSelector: { matchLabels: { eventlistener: "mlops-testbed" } } },
            ]);
        });
    });
});
