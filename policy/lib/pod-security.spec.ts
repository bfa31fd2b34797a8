/**
 * The Pod Security check against the controls of the Kubernetes 1.34 Pod Security Standards: a pod that meets
 * `restricted`, then one change at a time, each failing exactly the checks the standard (and the admission's
 * policy/check_*.go of k8s.io/pod-security-admission v0.34) says it fails, at each level.
 */
import * as assert from "node:assert/strict";
import { CHECKS, checksOf, podSecurityProblems, type PodTemplate } from "./pod-security";
import type { Json } from "../../contract/json";

const RESTRICTED_CONTAINER = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };

/** A pod that meets restricted: non-root and RuntimeDefault seccomp at pod level, every container locked down. */
function pod(): { metadata: Record<string, Json>; spec: Record<string, Json> } {
    return {
        metadata: { annotations: {} },
        spec: {
            securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: "RuntimeDefault" } },
            initContainers: [{ name: "fetch", securityContext: structuredClone(RESTRICTED_CONTAINER) }],
            containers: [
                {
                    name: "server",
                    securityContext: structuredClone(RESTRICTED_CONTAINER),
                    ports: [{ containerPort: 8080 }],
                    readinessProbe: { httpGet: { path: "/healthz", port: 8080 } },
                },
            ],
            volumes: [
                { name: "model", emptyDir: {} },
                { name: "settings", configMap: { name: "s" } },
                { name: "token", projected: { sources: [] } },
            ],
        },
    };
}

const checksFailed = (p: PodTemplate, level: "baseline" | "restricted") => [
    ...new Set(podSecurityProblems(p, level).map((x) => x.check)),
];

interface Case {
    readonly title: string;
    readonly change: (p: ReturnType<typeof pod>) => void;
    /** Checks failed at baseline and at restricted. */
    readonly baseline: readonly string[];
    readonly restricted: readonly string[];
}

const server = (p: ReturnType<typeof pod>) => p.spec.containers[0];
const fetcher = (p: ReturnType<typeof pod>) => p.spec.initContainers[0];

const CASES: readonly Case[] = [
    // Baseline controls: failing them fails both levels.
    {
        title: "pod windowsOptions.hostProcess",
        change: (p) => (p.spec.securityContext.windowsOptions = { hostProcess: true }),
        baseline: ["windowsHostProcess"],
        restricted: ["windowsHostProcess"],
    },
    {
        title: "container windowsOptions.hostProcess",
        change: (p) => (fetcher(p).securityContext.windowsOptions = { hostProcess: true }),
        baseline: ["windowsHostProcess"],
        restricted: ["windowsHostProcess"],
    },
    ...["hostNetwork", "hostPID", "hostIPC"].map((f) => ({
        title: `${f}: true`,
        change: (p: ReturnType<typeof pod>) => (p.spec[f] = true),
        baseline: ["hostNamespaces"],
        restricted: ["hostNamespaces"],
    })),
    {
        title: "a privileged init container",
        change: (p) => (fetcher(p).securityContext.privileged = true),
        baseline: ["privileged"],
        restricted: ["privileged"],
    },
    {
        title: "adding SYS_ADMIN",
        change: (p) => (server(p).securityContext.capabilities.add = ["SYS_ADMIN"]),
        baseline: ["capabilities_baseline"],
        restricted: ["capabilities_restricted"],
    },
    {
        title: "adding NET_RAW (not in the default set)",
        change: (p) => (server(p).securityContext.capabilities.add = ["NET_RAW"]),
        baseline: ["capabilities_baseline"],
        restricted: ["capabilities_restricted"],
    },
    {
        title: "adding CHOWN (default set, not restricted)",
        change: (p) => (server(p).securityContext.capabilities.add = ["CHOWN"]),
        baseline: [],
        restricted: ["capabilities_restricted"],
    },
    {
        title: "a hostPath volume",
        change: (p) => p.spec.volumes.push({ name: "host", hostPath: { path: "/" } }),
        baseline: ["hostPathVolumes"],
        restricted: ["hostPathVolumes", "restrictedVolumes"],
    },
    {
        title: "a hostPort",
        change: (p) => (server(p).ports[0].hostPort = 8080),
        baseline: ["hostPorts"],
        restricted: ["hostPorts"],
    },
    {
        title: "a probe's httpGet host",
        change: (p) => (server(p).readinessProbe.httpGet.host = "10.0.0.1"),
        baseline: ["hostProbesAndHostLifecycle"],
        restricted: ["hostProbesAndHostLifecycle"],
    },
    {
        title: "a preStop hook's tcpSocket host",
        change: (p) => (server(p).lifecycle = { preStop: { tcpSocket: { port: 1, host: "metadata" } } }),
        baseline: ["hostProbesAndHostLifecycle"],
        restricted: ["hostProbesAndHostLifecycle"],
    },
    {
        title: "an Unconfined AppArmor profile",
        change: (p) => (server(p).securityContext.appArmorProfile = { type: "Unconfined" }),
        baseline: ["appArmorProfile"],
        restricted: ["appArmorProfile"],
    },
    {
        title: "an unconfined AppArmor annotation",
        change: (p) => (p.metadata.annotations["container.apparmor.security.beta.kubernetes.io/server"] = "unconfined"),
        baseline: ["appArmorProfile"],
        restricted: ["appArmorProfile"],
    },
    {
        title: "a custom SELinux type",
        change: (p) => (p.spec.securityContext.seLinuxOptions = { type: "spc_t" }),
        baseline: ["seLinuxOptions"],
        restricted: ["seLinuxOptions"],
    },
    {
        title: "a custom SELinux user on a container",
        change: (p) => (fetcher(p).securityContext.seLinuxOptions = { user: "system_u" }),
        baseline: ["seLinuxOptions"],
        restricted: ["seLinuxOptions"],
    },
    {
        title: "procMount Unmasked",
        change: (p) => (server(p).securityContext.procMount = "Unmasked"),
        baseline: ["procMount"],
        restricted: ["procMount"],
    },
    {
        title: "an Unconfined seccomp profile on a container",
        change: (p) => (server(p).securityContext.seccompProfile = { type: "Unconfined" }),
        baseline: ["seccompProfile_baseline"],
        restricted: ["seccompProfile_restricted"],
    },
    {
        title: "an unsafe sysctl",
        change: (p) => (p.spec.securityContext.sysctls = [{ name: "kernel.msgmax", value: "1" }]),
        baseline: ["sysctls"],
        restricted: ["sysctls"],
    },
    // Restricted controls: baseline admits these.
    {
        title: "an nfs volume",
        change: (p) => p.spec.volumes.push({ name: "share", nfs: { server: "nfs", path: "/" } }),
        baseline: [],
        restricted: ["restrictedVolumes"],
    },
    {
        title: "allowPrivilegeEscalation left unset on the init container",
        change: (p) => delete fetcher(p).securityContext.allowPrivilegeEscalation,
        baseline: [],
        restricted: ["allowPrivilegeEscalation"],
    },
    {
        title: "allowPrivilegeEscalation: true",
        change: (p) => (server(p).securityContext.allowPrivilegeEscalation = true),
        baseline: [],
        restricted: ["allowPrivilegeEscalation"],
    },
    {
        title: "no runAsNonRoot anywhere",
        change: (p) => delete p.spec.securityContext.runAsNonRoot,
        baseline: [],
        restricted: ["runAsNonRoot"],
    },
    {
        title: "a container with runAsNonRoot: false",
        change: (p) => (server(p).securityContext.runAsNonRoot = false),
        baseline: [],
        restricted: ["runAsNonRoot"],
    },
    {
        title: "runAsUser 0 on a container",
        change: (p) => (fetcher(p).securityContext.runAsUser = 0),
        baseline: [],
        restricted: ["runAsUser"],
    },
    {
        title: "no seccomp profile anywhere",
        change: (p) => delete p.spec.securityContext.seccompProfile,
        baseline: [],
        restricted: ["seccompProfile_restricted"],
    },
    {
        title: "capabilities not dropped on the init container",
        change: (p) => delete fetcher(p).securityContext.capabilities,
        baseline: [],
        restricted: ["capabilities_restricted"],
    },
    {
        title: "an ephemeral container without a securityContext",
        change: (p) => (p.spec.ephemeralContainers = [{ name: "debug", image: "busybox:1.37" }]),
        baseline: [],
        restricted: ["allowPrivilegeEscalation", "capabilities_restricted"],
    },
    // What both levels allow.
    {
        title: "adding only NET_BIND_SERVICE, hostPort 0, empty probe host, Localhost profiles, safe sysctl",
        change: (p) => {
            server(p).securityContext.capabilities.add = ["NET_BIND_SERVICE"];
            server(p).ports[0].hostPort = 0;
            server(p).readinessProbe.httpGet.host = "";
            server(p).securityContext.seccompProfile = { type: "Localhost", localhostProfile: "p.json" };
            server(p).securityContext.appArmorProfile = { type: "Localhost", localhostProfile: "p" };
            server(p).securityContext.procMount = "Default";
            p.metadata.annotations["container.apparmor.security.beta.kubernetes.io/fetch"] = "localhost/p";
            p.spec.securityContext.seLinuxOptions = { type: "container_engine_t", level: "s0:c1" };
            p.spec.securityContext.sysctls = [{ name: "net.ipv4.tcp_rmem", value: "4096 87380 6291456" }];
            p.spec.volumes.push({ name: "scratch", ephemeral: {} }, { name: "pvc", persistentVolumeClaim: {} });
        },
        baseline: [],
        restricted: [],
    },
    {
        title: "seccomp on every container instead of the pod",
        change: (p) => {
            delete p.spec.securityContext.seccompProfile;
            for (const c of [server(p), fetcher(p)]) c.securityContext.seccompProfile = { type: "RuntimeDefault" };
        },
        baseline: [],
        restricted: [],
    },
    {
        title: "a Windows pod without the Linux-only settings (privilege escalation, seccomp, capabilities)",
        change: (p) => {
            p.spec.os = { name: "windows" };
            delete p.spec.securityContext.seccompProfile;
            for (const c of [server(p), fetcher(p)]) c.securityContext = {};
        },
        baseline: [],
        restricted: [],
    },
];

describe("Pod Security Standards (Kubernetes 1.34): baseline and restricted", () => {
    it("the starting pod meets both levels", () => {
        assert.deepEqual(podSecurityProblems(pod(), "restricted"), []);
        assert.deepEqual(podSecurityProblems(pod(), "baseline"), []);
    });

    for (const c of CASES) {
        it(`${c.title}: baseline fails [${c.baseline.join(", ")}], restricted fails [${c.restricted.join(", ")}]`, () => {
            const p = pod();
            c.change(p);
            assert.deepEqual(checksFailed(p, "baseline"), c.baseline);
            assert.deepEqual(checksFailed(p, "restricted"), c.restricted);
        });
    }

    it("has the admission's checks: 12 baseline, 6 restricted, two of which replace a baseline check", () => {
        assert.deepEqual(
            checksOf("baseline").map((c) => c.id),
            [
                "windowsHostProcess",
                "hostNamespaces",
                "privileged",
                "capabilities_baseline",
                "hostPathVolumes",
                "hostPorts",
                "hostProbesAndHostLifecycle",
                "appArmorProfile",
                "seLinuxOptions",
                "procMount",
                "seccompProfile_baseline",
                "sysctls",
            ],
        );
        assert.deepEqual(
            CHECKS.filter((c) => c.level === "restricted").map((c) => c.id),
            [
                "restrictedVolumes",
                "allowPrivilegeEscalation",
                "runAsNonRoot",
                "runAsUser",
                "seccompProfile_restricted",
                "capabilities_restricted",
            ],
        );
        assert.equal(checksOf("restricted").length, 12 - 2 + 6);
        for (const c of CASES)
            for (const id of [...c.baseline, ...c.restricted])
                assert.ok(
                    CHECKS.some((k) => k.id === id),
                    id,
                );
    });

    it("names the container and what to set", () => {
        const p = pod();
        delete fetcher(p).securityContext.allowPrivilegeEscalation;
        delete server(p).securityContext.allowPrivilegeEscalation;
        assert.deepEqual(podSecurityProblems(p, "restricted"), [
            {
                check: "allowPrivilegeEscalation",
                level: "restricted",
                detail: 'containers "fetch", "server" must set allowPrivilegeEscalation: false',
            },
        ]);
    });
});
