import * as assert from "node:assert/strict";
import * as fc from "fast-check";
import { clusterAutoscalerStatements } from "./cluster-autoscaler";
import { s3GrantStatements } from "./iam-policy";
import { RUNTIMES_KEPT } from "./registry";
import { planSubnets } from "./subnets";
import type { Plan } from "../../tools/mock-runtime";
import { descendantsOf, findResource, jsonInput, planStack, resourcesOfType } from "../../test/harness";
import { CHARTS } from "../../contract/versions";
import { runtimeTag } from "../../pipelines/core/runtime";
import { chartFactsOf, unknownValueKeys } from "../../test/upstream-facts";
import type { Json } from "../../test/json";
import { ipToInt } from "../../contract/ipv4";

const T = {
    nodeGroup: "aws:eks/nodeGroup:NodeGroup",
    bucket: "aws:s3/bucket:Bucket",
    versioning: "aws:s3/bucketVersioning:BucketVersioning",
    sse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    pab: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    ownership: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    policy: "aws:s3/bucketPolicy:BucketPolicy",
    lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    notification: "aws:s3/bucketNotification:BucketNotification",
    role: "aws:iam/role:Role",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    release: "kubernetes:helm.sh/v3:Release",
    asgTag: "aws:autoscaling/tag:Tag",
    natGateway: "aws:ec2/natGateway:NatGateway",
    instance: "aws:ec2/instance:Instance",
    subnet: "aws:ec2/subnet:Subnet",
    routeTableAssociation: "aws:ec2/routeTableAssociation:RouteTableAssociation",
    ecr: "aws:ecr/repository:Repository",
    kms: "aws:kms/key:Key",
    eks: "eks:index:Cluster",
} as const;

let dev: Plan;
let prod: Plan;

before(async () => {
    dev = await planStack("dev");
    prod = await planStack("prod");
});

describe("aws: GPU node groups", () => {
    it("carry the GPU taint, GPU labels, the NVIDIA AL2023 AMI, spot capacity and min 0", () => {
        const ng = findResource(dev, T.nodeGroup, "aws-gpu-t4-ng");
        assert.deepEqual(ng.inputs.taints, [{ key: "nvidia.com/gpu", value: "true", effect: "NO_SCHEDULE" }]);
        assert.equal((ng.inputs.labels as Record<string, string>)["nvidia.com/gpu.present"], "true");
        assert.equal((ng.inputs.labels as Record<string, string>)["mlops-testbed/gpu-pool"], "t4");
        assert.equal(ng.inputs.amiType, "AL2023_x86_64_NVIDIA");
        assert.equal(ng.inputs.capacityType, "SPOT");
        assert.deepEqual(ng.inputs.instanceTypes, ["g4dn.xlarge", "g4dn.2xlarge"]);
        assert.deepEqual(ng.inputs.scalingConfig, { minSize: 0, maxSize: 2, desiredSize: 0 });
        assert.ok(
            ng.inputs.subnetIds && (ng.inputs.subnetIds as string[]).length === 2,
            "nodes in both private subnets",
        );
    });

    it("the autoscaler owns every node group's size: desiredSize (and only it) is ignored after creation, in dev and prod", () => {
        for (const plan of [dev, prod]) {
            const groups = resourcesOfType(plan, T.nodeGroup);
            assert.ok(
                groups.some((g) => g.name === "aws-system-ng"),
                `${plan.stack}: the system group`,
            );
            assert.ok(
                groups.some((g) => g.name.startsWith("aws-gpu-")),
                `${plan.stack}: GPU groups`,
            );
            for (const g of groups)
                assert.deepEqual(g.ignoreChanges, ["scalingConfig.desiredSize"], `${plan.stack} ${g.name}`);
        }
    });

    it("prod has one on-demand group per pool", () => {
        const groups = resourcesOfType(prod, T.nodeGroup).filter((r) => r.name.startsWith("aws-gpu-"));
        assert.deepEqual(groups.map((g) => [g.name, g.inputs.capacityType]).sort(), [
            ["aws-gpu-a10g-ng", "ON_DEMAND"],
            ["aws-gpu-t4-spot-ng", "SPOT"],
        ]);
    });

    it("each group gets the AMI of its own architecture: an arm64 GPU pool beside x86_64 system nodes", async () => {
        const plan = await planStack("dev", {
            gpuNodePools: [
                { name: "graviton", instanceTypes: ["g5g.xlarge"], capacityType: "spot", minSize: 0, maxSize: 1 },
            ],
            // Model-server images are built for both architectures, so the two may differ.
            cluster: { systemNodes: { instanceTypes: ["t3a.medium", "t3.medium"] } },
        });
        assert.equal(findResource(plan, T.nodeGroup, "aws-system-ng").inputs.amiType, "AL2023_x86_64_STANDARD");
        assert.equal(findResource(plan, T.nodeGroup, "aws-gpu-graviton-ng").inputs.amiType, "AL2023_ARM_64_NVIDIA");
    });

    it("tag the Auto Scaling group with the taint and labels so the autoscaler can scale from zero", () => {
        const group = findResource(dev, "mlops-testbed:aws:ManagedNodeGroup", "aws-gpu-t4");
        const tags = descendantsOf(dev, group.urn)
            .filter((r) => r.type === T.asgTag)
            .map((r) => r.inputs.tag as { key: string; value: string });
        const byKey = Object.fromEntries(tags.map((t) => [t.key, t.value]));
        assert.equal(byKey["k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu"], "true:NoSchedule");
        assert.equal(byKey["k8s.io/cluster-autoscaler/node-template/label/nvidia.com/gpu.present"], "true");
        assert.equal(byKey["k8s.io/cluster-autoscaler/node-template/label/mlops-testbed/gpu-pool"], "t4");
    });

    it("prod's system nodes are one on-demand x86_64 group, untainted, and labelled for system workloads", () => {
        const groups = resourcesOfType(prod, T.nodeGroup).filter((r) => r.name.startsWith("aws-system"));
        assert.deepEqual(
            groups.map((g) => g.name),
            ["aws-system-ng"],
        );
        const ng = groups[0];
        assert.equal(ng.inputs.capacityType, "ON_DEMAND");
        assert.equal(ng.inputs.amiType, "AL2023_x86_64_STANDARD");
        assert.deepEqual(ng.inputs.taints ?? [], []);
        assert.deepEqual(ng.inputs.labels, { "mlops-testbed/node-role": "system" });
        const values = findResource(prod, T.release, "aws-autoscaler-release").inputs.values as Json;
        assert.equal(values.extraArgs.expander, "least-waste");
        assert.equal(values.expanderPriorities, undefined);
    });

    it("dev's spot system nodes have an on-demand fallback of the same shape at size 0, tried after spot", () => {
        const spot = findResource(dev, T.nodeGroup, "aws-system-ng");
        const fallback = findResource(dev, T.nodeGroup, "aws-system-fallback-ng");
        assert.equal(spot.inputs.capacityType, "SPOT");
        assert.equal(fallback.inputs.capacityType, "ON_DEMAND");
        assert.deepEqual(spot.inputs.instanceTypes, ["t4g.medium", "m6g.medium", "m7g.medium"]);
        assert.equal(spot.inputs.amiType, "AL2023_ARM_64_STANDARD");
        for (const key of ["instanceTypes", "amiType", "subnetIds"])
            assert.deepEqual(fallback.inputs[key], spot.inputs[key], key);
        // Labelled apart, so the autoscaler does not balance scale-ups over the two as similar groups.
        assert.deepEqual(spot.inputs.labels, {
            "mlops-testbed/node-role": "system",
            "mlops-testbed/system-capacity": "spot",
        });
        assert.deepEqual(fallback.inputs.labels, {
            "mlops-testbed/node-role": "system",
            "mlops-testbed/system-capacity": "on-demand",
        });
        assert.deepEqual(spot.inputs.scalingConfig, { minSize: 2, maxSize: 3, desiredSize: 2 });
        assert.deepEqual(fallback.inputs.scalingConfig, { minSize: 0, maxSize: 3, desiredSize: 0 });
        const values = findResource(dev, T.release, "aws-autoscaler-release").inputs.values as Json;
        assert.equal(values.extraArgs.expander, "priority,least-waste");
        // The priority expander matches Auto Scaling group names, eks-<node group name>-<id>: the spot group's
        // pattern must take the spot group's name and not the fallback's.
        const patterns = values.expanderPriorities as Record<string, string[]>;
        const top = new RegExp(`^(${patterns["10"].join("|")})$`);
        const asg = (nodeGroupName: string) => `eks-mlops-${nodeGroupName}-1a2b3c4d-0000-1111-2222-333344445555`;
        assert.ok(top.test(asg("aws-system-ng-0f1e2d3")));
        assert.ok(!top.test(asg("aws-system-fallback-ng-0f1e2d3")));
        assert.ok(!top.test(asg("aws-gpu-t4-ng-0f1e2d3")));
        assert.deepEqual(patterns["1"], [".*"]);
    });

    it("prefix delegation is on, so small system nodes hold more than their ENIs' 17 addresses of pods", () => {
        for (const plan of [dev, prod])
            assert.equal(
                (findResource(plan, T.eks, "aws-eks").inputs.vpcCniOptions as Json).enablePrefixDelegation,
                true,
            );
    });
});

describe("aws: EKS cluster", () => {
    it("uses API authentication, an OIDC provider, all control-plane logs and private nodes", () => {
        const eks = findResource(dev, T.eks, "aws-eks");
        assert.equal(eks.inputs.authenticationMode, "API");
        assert.equal(eks.inputs.createOidcProvider, true);
        assert.deepEqual(eks.inputs.enabledClusterLogTypes, [
            "api",
            "audit",
            "authenticator",
            "controllerManager",
            "scheduler",
        ]);
        assert.equal(eks.inputs.skipDefaultNodeGroup, true);
        assert.equal(eks.inputs.nodeAssociatePublicIpAddress, false);
        assert.equal(eks.inputs.version, "1.34");
        assert.equal(eks.inputs.name, "mlops-testbed-dev");
    });

    it("restricts the public endpoint to the configured CIDRs in prod", () => {
        const eks = findResource(prod, T.eks, "aws-eks");
        assert.deepEqual(eks.inputs.publicAccessCidrs, ["203.0.113.0/24"]);
        assert.equal(eks.inputs.endpointPrivateAccess, true);
    });

    it("a private endpoint sets no public access", async () => {
        const plan = await planStack("dev", { cluster: { endpointAccess: "private" } });
        const eks = findResource(plan, T.eks, "aws-eks");
        assert.equal(eks.inputs.endpointPublicAccess, false);
        assert.equal(eks.inputs.publicAccessCidrs, undefined);
    });

    it("gives cluster-admin only to the configured roles through access entries", async () => {
        const arn = "arn:aws:iam::123456789012:role/ci-deploy";
        const plan = await planStack("dev", { cluster: { adminRoleArns: [arn] } });
        const entries = findResource(plan, T.eks, "aws-eks").inputs.accessEntries as Record<string, Json>;
        assert.deepEqual(Object.keys(entries), ["admin-0"]);
        assert.equal(entries["admin-0"].principalArn, arn);
        assert.equal(
            entries["admin-0"].accessPolicies.admin.policyArn,
            "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
        );
    });
});

describe("aws: KMS keys", () => {
    it("every KMS key of prod (store, EKS Secrets, EBS volumes) rotates its key material automatically", () => {
        const keys = resourcesOfType(prod, T.kms);
        assert.deepEqual(
            keys.map((k) => k.name).sort(),
            ["aws-secrets-key", "aws-store-key", "aws-volumes-key"],
            "the keys this test knows",
        );
        for (const k of keys) {
            assert.equal(k.inputs.enableKeyRotation, true, k.name);
            assert.equal(k.inputs.customerMasterKeySpec, undefined, `${k.name} is symmetric`);
        }
    });

    it("prod encrypts Secrets, volumes and buckets with its own keys; the EBS CSI driver may use only the volumes key", () => {
        const urnOf = (name: string) => findResource(prod, T.kms, name).urn;
        const eks = findResource(prod, T.eks, "aws-eks");
        assert.deepEqual(eks.propertyDependencies.encryptionConfigKeyArn, [urnOf("aws-secrets-key")]);
        for (const purpose of ["models", "datasets"])
            assert.deepEqual(findResource(prod, T.sse, `aws-store-${purpose}-sse`).propertyDependencies.rules, [
                urnOf("aws-store-key"),
            ]);
        const csiPolicy = findResource(prod, T.rolePolicy, "aws-ebs-csi-policy");
        const statements = jsonInput(csiPolicy, "policy").Statement as Json[];
        assert.ok(statements.length > 0);
        for (const s of statements) {
            assert.ok(
                s.Action.every((a: string) => a.startsWith("kms:")),
                "KMS actions only",
            );
            assert.equal(s.Resource.length, 1, "one key");
        }
        assert.deepEqual(csiPolicy.propertyDependencies.policy, [urnOf("aws-volumes-key")]);
    });

    it("dev (aws.encryptionKeys: aws-managed) creates no key: aws/s3, aws/ebs and EKS's default encryption", () => {
        assert.deepEqual(resourcesOfType(dev, T.kms), []);
        assert.equal(findResource(dev, T.eks, "aws-eks").inputs.encryptionConfigKeyArn, undefined);
        for (const purpose of ["models", "datasets"]) {
            const [rule] = findResource(dev, T.sse, `aws-store-${purpose}-sse`).inputs.rules as Json[];
            assert.deepEqual(rule, {
                applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" },
                bucketKeyEnabled: true,
            });
        }
        // The managed policy covers AWS managed keys: the driver's role has no inline policy at all.
        assert.deepEqual(
            resourcesOfType(dev, T.rolePolicy).filter((r) => r.name.includes("ebs-csi")),
            [],
        );
        // No store-key statement in any workload role: aws/s3's key policy admits whoever S3 admits.
        for (const r of resourcesOfType(dev, T.rolePolicy))
            assert.ok(
                (jsonInput(r, "policy").Statement as Json[]).every((s) => s.Sid !== "StoreKey"),
                `${r.name} names no store key`,
            );
    });
});

describe("aws: network", () => {
    it("dev has one NAT instance and no gateway, prod a NAT gateway per zone over three zones", () => {
        assert.equal(resourcesOfType(dev, T.natGateway).length, 0);
        assert.equal(resourcesOfType(dev, T.instance).length, 1);
        assert.equal(resourcesOfType(prod, T.natGateway).length, 3);
        assert.equal(resourcesOfType(prod, T.instance).length, 0);
        assert.equal(resourcesOfType(prod, T.subnet).length, 6);
    });

    it("the NAT instance forwards, takes traffic from the VPC only, needs IMDSv2, and every private route uses it", () => {
        const instance = findResource(dev, T.instance, "aws-network-nat-0-instance");
        assert.equal(instance.inputs.sourceDestCheck, false);
        assert.equal(instance.inputs.instanceType, "t4g.nano");
        assert.deepEqual(instance.propertyDependencies.subnetId, [
            findResource(dev, T.subnet, "aws-network-public-0").urn,
        ]);
        const group = findResource(dev, "aws:ec2/securityGroup:SecurityGroup", "aws-network-nat-0-sg");
        assert.deepEqual(
            (group.inputs.ingress as Json[]).map((r) => r.cidrBlocks),
            [["10.20.0.0/16"]],
        );
        const template = findResource(dev, "aws:ec2/launchTemplate:LaunchTemplate", "aws-network-nat-0-lt");
        assert.equal((template.inputs.metadataOptions as Json).httpTokens, "required");
        assert.match(String(template.inputs.imageId), /^resolve:ssm:.*arm64$/);
        assert.match(String(instance.inputs.userData), /MASQUERADE/);
        const eip = findResource(dev, "aws:ec2/eipAssociation:EipAssociation", "aws-network-nat-0-eip");
        assert.deepEqual(eip.propertyDependencies.instanceId, [instance.urn]);
        for (const i of [0, 1]) {
            const table = findResource(dev, "aws:ec2/routeTable:RouteTable", `aws-network-private-rt-${i}`);
            const routes = table.inputs.routes as Json[];
            // The interface id is known only once the instance runs (unknown in a plan): the route's dependency
            // shows where it points.
            assert.equal(routes[0].natGatewayId, undefined);
            assert.equal(routes[0].cidrBlock, "0.0.0.0/0");
            assert.deepEqual(table.propertyDependencies.routes, [instance.urn]);
        }
    });

    it("node groups wait for every private subnet's route through NAT", () => {
        for (const plan of [dev, prod]) {
            const privateRoutes = resourcesOfType(plan, T.routeTableAssociation).filter((r) =>
                /-private-\d+$/.test(r.name),
            );
            assert.ok(privateRoutes.length >= 2);
            // The node-group components wait; their children register only after them.
            const groups = resourcesOfType(plan, "mlops-testbed:aws:ManagedNodeGroup");
            assert.ok(groups.length >= 2);
            for (const ng of groups) {
                for (const route of privateRoutes)
                    assert.ok(ng.dependsOn.includes(route.urn), `${ng.name} does not wait for ${route.name}`);
            }
        }
    });

    it("tags subnets for load balancers and puts no public IPs on launch", () => {
        const pub = findResource(dev, T.subnet, "aws-network-public-0");
        const priv = findResource(dev, T.subnet, "aws-network-private-0");
        assert.equal((pub.inputs.tags as Json)["kubernetes.io/role/elb"], "1");
        assert.equal((priv.inputs.tags as Json)["kubernetes.io/role/internal-elb"], "1");
        assert.equal((priv.inputs.tags as Json)["kubernetes.io/cluster/mlops-testbed-dev"], "shared");
        assert.equal(pub.inputs.mapPublicIpOnLaunch, false);
        assert.notEqual(
            pub.inputs.availabilityZone,
            findResource(dev, T.subnet, "aws-network-public-1").inputs.availabilityZone,
        );
    });

    it("subnet plans stay inside the VPC and never overlap (property)", () => {
        fc.assert(
            fc.property(
                fc.integer({ min: 0, max: 255 }),
                fc.integer({ min: 8, max: 20 }),
                fc.integer({ min: 1, max: 4 }),
                (octet, bits, zones) => {
                    const vpc = `10.${octet}.0.0/${bits}`;
                    const plan = planSubnets(vpc, zones);
                    const vpcStart = ipToInt(`10.${octet}.0.0`) - (ipToInt(`10.${octet}.0.0`) % 2 ** (32 - bits));
                    const vpcEnd = vpcStart + 2 ** (32 - bits);
                    const ranges = [...plan.privateCidrs, ...plan.publicCidrs].map((c) => {
                        const [ip, b] = c.split("/");
                        const start = ipToInt(ip);
                        assert.equal(start % 2 ** (32 - Number(b)), 0, `${c} is aligned`);
                        return [start, start + 2 ** (32 - Number(b))] as const;
                    });
                    assert.equal(plan.privateCidrs.length, zones);
                    assert.equal(plan.publicCidrs.length, zones);
                    for (const [s, e] of ranges) assert.ok(s >= vpcStart && e <= vpcEnd, `${s}-${e} inside ${vpc}`);
                    const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
                    for (let i = 1; i < sorted.length; i++) assert.ok(sorted[i][0] >= sorted[i - 1][1], "no overlap");
                },
            ),
            { numRuns: 300 },
        );
    });
});

describe("aws: artifact stores", () => {
    for (const purpose of ["models", "datasets"]) {
        it(`${purpose}: versioned, SSE-KMS, public access blocked, owner-enforced, TLS-only, noncurrent versions expire`, () => {
            const n = `aws-store-${purpose}`;
            assert.deepEqual(findResource(dev, T.versioning, `${n}-versioning`).inputs.versioningConfiguration, {
                status: "Enabled",
            });
            for (const plan of [dev, prod]) {
                const sse = findResource(plan, T.sse, `${n}-sse`).inputs.rules as Json[];
                assert.equal(sse[0].applyServerSideEncryptionByDefault.sseAlgorithm, "aws:kms", plan.stack);
                assert.equal(sse[0].bucketKeyEnabled, true, plan.stack);
            }
            const pab = findResource(dev, T.pab, `${n}-public-access`).inputs;
            for (const k of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"])
                assert.equal(pab[k], true, k);
            assert.deepEqual(findResource(dev, T.ownership, `${n}-ownership`).inputs.rule, {
                objectOwnership: "BucketOwnerEnforced",
            });
            const policy = jsonInput(findResource(dev, T.policy, `${n}-tls-only`), "policy");
            assert.deepEqual(policy.Statement[0].Condition, { Bool: { "aws:SecureTransport": "false" } });
            assert.equal(policy.Statement[0].Effect, "Deny");
            assert.equal(policy.Statement[0].Principal, "*");
            const rules = findResource(dev, T.lifecycle, `${n}-lifecycle`).inputs.rules as Json[];
            assert.equal(
                rules.find((r) => r.id === "expire-noncurrent-versions").noncurrentVersionExpiration.noncurrentDays,
                7,
            );
        });
    }

    it("only the datasets bucket sends events to EventBridge", () => {
        const notes = resourcesOfType(dev, T.notification);
        assert.deepEqual(
            notes.map((n) => [n.name, n.inputs.eventbridge]),
            [["aws-store-datasets-events", true]],
        );
    });

    it("prod protects and retains the buckets, their key and the registry; dev lets them be destroyed", () => {
        for (const plan of [dev, prod]) {
            const isProd = plan === prod;
            const stateful = [
                ...resourcesOfType(plan, T.bucket),
                ...resourcesOfType(plan, T.versioning),
                findResource(plan, T.ecr, "aws-registry-repo"),
                ...(isProd ? [findResource(plan, T.kms, "aws-store-key")] : []),
            ];
            for (const r of stateful) {
                assert.equal(r.protect, isProd, `${plan.stack} ${r.name} protect`);
                assert.equal(r.retainOnDelete, isProd, `${plan.stack} ${r.name} retainOnDelete`);
            }
            for (const b of resourcesOfType(plan, T.bucket))
                assert.equal(b.inputs.forceDestroy, !isProd, `${plan.stack} ${b.name} forceDestroy`);
        }
    });
});

describe("aws: image registry", () => {
    it("image tags are immutable in dev and prod: a pushed tag can never be moved to other code", () => {
        for (const plan of [dev, prod]) {
            const repos = resourcesOfType(plan, T.ecr);
            assert.equal(repos.length, 1, plan.stack);
            assert.equal(repos[0].inputs.imageTagMutability, "IMMUTABLE", plan.stack);
            assert.equal(repos[0].inputs.imageTagMutabilityExclusionFilters, undefined, `${plan.stack}: no exceptions`);
        }
    });

    it("ECR scans on push, encrypts with KMS and expires old images", () => {
        const repo = findResource(dev, T.ecr, "aws-registry-repo");
        assert.deepEqual(repo.inputs.imageScanningConfiguration, { scanOnPush: true });
        assert.deepEqual(repo.inputs.encryptionConfigurations, [{ encryptionType: "KMS" }]);
        assert.equal(repo.inputs.name, "mlops-testbed-dev/model-server");
        const policy = jsonInput(
            findResource(dev, "aws:ecr/lifecyclePolicy:LifecyclePolicy", "aws-registry-lifecycle"),
            "policy",
        );
        assert.equal(policy.rules[0].selection.countNumber, 3);
        assert.equal(policy.rules[2].selection.countNumber, 30);
        assert.equal(policy.rules[2].selection.tagStatus, "any");
    });

    it("ECR's lifecycle never counts the step runtime among the model builds it expires", () => {
        const policy = jsonInput(
            findResource(dev, "aws:ecr/lifecyclePolicy:LifecyclePolicy", "aws-registry-lifecycle"),
            "policy",
        );
        // The runtime's tag, as the install pushes it, falls under a rule of its own, ranked before the rule over any
        // tag: ECR lets no lower-priority rule expire an image a higher one's tag selection matches.
        const tag = runtimeTag();
        const runtimeRules = (policy.rules as Json[]).filter(
            (r) =>
                r.selection.tagStatus === "tagged" &&
                (r.selection.tagPrefixList as string[]).some((prefix) => tag.startsWith(prefix)),
        );
        assert.equal(runtimeRules.length, 1);
        const anyTag = (policy.rules as Json[]).find((r) => r.selection.tagStatus === "any");
        assert.ok(runtimeRules[0].rulePriority < anyTag.rulePriority);
        assert.equal(runtimeRules[0].selection.countNumber, RUNTIMES_KEPT);
        // A model build's tag (<commit>-<TaskRun name>) is not one of them.
        const modelTag = "3f2a9c1d0e7b5a4c6d8e9f0a1b2c3d4e5f6a7b8c-train-and-deploy-iris-x7k2p-build-image";
        assert.ok(!(runtimeRules[0].selection.tagPrefixList as string[]).some((p) => modelTag.startsWith(p)));
    });
});

describe("aws: workload identity (IRSA)", () => {
    it("the autoscaler's role trusts exactly its service account through the cluster's OIDC provider", () => {
        const role = findResource(dev, T.role, "aws-autoscaler-identity-role");
        const trust = jsonInput(role, "assumeRolePolicy");
        assert.equal(trust.Statement.length, 1);
        const st = trust.Statement[0];
        assert.deepEqual(st.Action, ["sts:AssumeRoleWithWebIdentity"]);
        assert.match(st.Principal.Federated, /^arn:aws:iam::\d{12}:oidc-provider\/oidc\.eks\./);
        const eq = st.Condition.StringEquals;
        const subKey = Object.keys(eq).find((k) => k.endsWith(":sub"))!;
        assert.ok(!subKey.startsWith("https://"), "condition keys use the issuer without scheme");
        assert.equal(eq[subKey], "system:serviceaccount:kube-system:cluster-autoscaler");
        assert.equal(eq[subKey.replace(/:sub$/, ":aud")], "sts.amazonaws.com");
        assert.equal(st.Condition.StringLike, undefined, "no wildcard subjects");
    });

    it("S3 grants allow only the given prefixes, list only under them, and never delete", () => {
        const buckets = { models: "arn:aws:s3:::m", datasets: "arn:aws:s3:::d" };
        const st = s3GrantStatements(
            [{ store: "models", prefix: "models/iris/v2/", access: "read" }],
            buckets,
            "arn:aws:kms:k",
        );
        const objects = st.find((s) => s.Sid === "Objects0")!;
        assert.equal(objects.Resource, "arn:aws:s3:::m/models/iris/v2/*");
        assert.ok(!objects.Action.some((a) => /Delete|Put/.test(a)), "read grants neither write nor delete");
        assert.deepEqual(st.find((s) => s.Sid === "List0")!.Condition, {
            StringLike: { "s3:prefix": ["models/iris/v2/*"] },
        });
        assert.deepEqual(st.find((s) => s.Sid === "StoreKey")!.Action, ["kms:Decrypt"]);
        const resources = st.flatMap((s) => [s.Resource].flat());
        assert.ok(!resources.includes("arn:aws:s3:::d"), "no access to the other store");
        // With the account's aws/s3 key the same grant names no key: the rest is unchanged.
        const managed = s3GrantStatements(
            [{ store: "models", prefix: "models/iris/v2/", access: "read" }],
            buckets,
            undefined,
        );
        assert.deepEqual(
            managed,
            st.filter((s) => s.Sid !== "StoreKey"),
        );
    });

    it("grants are least privilege for any prefix and mode (property)", () => {
        const segment = fc.stringMatching(/^[a-z0-9-]{1,12}$/);
        fc.assert(
            fc.property(
                fc.array(segment, { minLength: 1, maxLength: 3 }),
                fc.constantFrom("read", "write", "read-write"),
                fc.constantFrom("models", "datasets"),
                (parts, access, store) => {
                    const prefix = parts.join("/") + "/";
                    const st = s3GrantStatements(
                        [{ store, prefix, access }],
                        { models: "arn:aws:s3:::m", datasets: "arn:aws:s3:::d" },
                        "arn:k",
                    );
                    const bucket = store === "models" ? "arn:aws:s3:::m" : "arn:aws:s3:::d";
                    for (const s of st) {
                        assert.ok(
                            !s.Action.some((a) => a === "s3:*" || a.startsWith("s3:Delete")),
                            "never wildcard or delete",
                        );
                        for (const r of [s.Resource].flat())
                            if (r && r !== "arn:k")
                                assert.ok(r === bucket || r === `${bucket}/${prefix}*`, `${r} within ${prefix}`);
                    }
                },
            ),
        );
    });

    it("rejects prefixes that would widen a grant", () => {
        for (const prefix of ["/models/", "models", "models/*/"]) {
            assert.throws(
                () =>
                    s3GrantStatements(
                        [{ store: "models", prefix, access: "read" }],
                        { models: "m", datasets: "d" },
                        "k",
                    ),
                /must be "" or end with "\/"/,
            );
        }
    });
});

describe("aws: GPU enablement and autoscaling", () => {
    it("installs the NVIDIA device plugin 0.20.0 only on GPU nodes, tolerating the taint", () => {
        const rel = findResource(dev, T.release, "aws-nvidia-release");
        assert.equal(rel.inputs.chart, "nvidia-device-plugin");
        assert.equal(rel.inputs.version, "0.20.0");
        const values = rel.inputs.values as Json;
        const term =
            values.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]
                .matchExpressions[0];
        assert.deepEqual(term, { key: "nvidia.com/gpu.present", operator: "In", values: ["true"] });
        assert.ok(
            values.tolerations.some(
                (t: Json) => t.key === "nvidia.com/gpu" && t.operator === "Exists" && t.effect === "NoSchedule",
            ),
        );
        assert.ok(values.resources.requests.cpu, "resource requests set");
    });

    it("runs cluster-autoscaler with its IRSA role, auto-discovery of this cluster, and a matching image", () => {
        const rel = findResource(dev, T.release, "aws-autoscaler-release");
        const values = rel.inputs.values as Json;
        assert.equal(values.autoDiscovery.clusterName, "mlops-testbed-dev");
        assert.equal(values.awsRegion, "eu-west-1");
        assert.equal(values.image.tag, "v1.34.1");
        assert.equal(values.extraArgs["scale-down-unneeded-time"], "10m");
        assert.match(
            values.rbac.serviceAccount.annotations["eks.amazonaws.com/role-arn"],
            /^arn:aws:iam::\d{12}:role\//,
        );
        assert.deepEqual(values.nodeSelector, { "mlops-testbed/node-role": "system" });
        assert.deepEqual(unknownValueKeys(values, [chartFactsOf(CHARTS.clusterAutoscaler).keys]), []);
    });

    it("the autoscaler may read node groups (scale from zero) and resize only this cluster's groups", () => {
        const policy = jsonInput(findResource(dev, T.rolePolicy, "aws-autoscaler-identity-policy"), "policy");
        assert.deepEqual(policy.Statement, clusterAutoscalerStatements("mlops-testbed-dev"));
        const describe = policy.Statement.find((s: Json) => s.Sid === "Describe");
        assert.ok(describe.Action.includes("eks:DescribeNodegroup"));
        const scale = policy.Statement.find((s: Json) => s.Sid === "ScaleOwnedGroups");
        assert.deepEqual(scale.Condition, {
            StringEquals: { "aws:ResourceTag/k8s.io/cluster-autoscaler/mlops-testbed-dev": "owned" },
        });
    });

    it("Kubernetes resources use the platform's explicit provider", () => {
        for (const rel of resourcesOfType(dev, T.release)) {
            assert.match(
                String(rel.provider),
                /^urn:pulumi:dev::mlops-testbed::([^:]+:[^:]+:[^:]+\$)?pulumi:providers:kubernetes::aws-k8s::/,
                rel.name,
            );
        }
    });
});
