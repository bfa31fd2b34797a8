/**
 * The Pod Security Standards, `baseline` and `restricted`, as Kubernetes 1.34 (the stacks' default version) defines
 * them: https://v1-34.docs.kubernetes.io/docs/concepts/security/pod-security-standards/ . The rules and the allowed
 * values follow that page and the admission that enforces it, k8s.io/pod-security-admission v0.34 (policy/
 * check_*.go): a check's id is the admission's, and `restricted` is everything of `baseline` plus its own checks,
 * two of which replace a baseline check (capabilities, seccomp). Every container counts: init containers,
 * containers and ephemeral containers, in the order the admission visits them.
 *
 * Not modelled: the relaxation for pods in a user namespace (`hostUsers: false`), which needs the feature gate
 * UserNamespacesPodSecurityStandards (off by default in 1.34); without it this check is the stricter one.
 */
import { asArray, isRecord } from "./resources";
import type { Json } from "../../contract/json";

export type PodSecurityLevel = "baseline" | "restricted";
export const POD_SECURITY_LEVELS: readonly PodSecurityLevel[] = ["baseline", "restricted"];

/** A pod as a workload's template holds it: metadata (annotations) and spec. */
export interface PodTemplate {
    readonly metadata?: Json;
    readonly spec: Json;
}

export interface PodSecurityProblem {
    /** The admission's check id (`allowPrivilegeEscalation`, `capabilities_restricted`, ...). */
    readonly check: string;
    /** The lowest level the check belongs to. */
    readonly level: PodSecurityLevel;
    /** What is set where, e.g. `container "server": allowPrivilegeEscalation is not false`. */
    readonly detail: string;
}

interface Container {
    readonly name: string;
    readonly json: Record<string, Json>;
    /** The container's securityContext, {} when unset. */
    readonly sc: Record<string, Json>;
}

interface Pod {
    readonly annotations: Record<string, Json>;
    readonly spec: Record<string, Json>;
    /** The pod's securityContext, {} when unset. */
    readonly sc: Record<string, Json>;
    readonly containers: readonly Container[];
    readonly windows: boolean;
}

const record = (v: unknown): Record<string, Json> => (isRecord(v) ? v : {});

function view(pod: PodTemplate): Pod {
    const spec = record(pod.spec);
    const containers = (["initContainers", "containers", "ephemeralContainers"] as const).flatMap((list) =>
        asArray(spec[list]).map((c) => ({
            name: String(c?.name ?? "?"),
            json: record(c),
            sc: record(c?.securityContext),
        })),
    );
    return {
        annotations: record(record(pod.metadata).annotations),
        spec,
        sc: record(spec.securityContext),
        containers,
        windows: record(spec.os).name === "windows",
    };
}

const quote = (names: readonly string[]) => names.map((n) => JSON.stringify(n)).join(", ");
const containersWhere = (p: Pod, bad: (c: Container) => boolean) => p.containers.filter(bad).map((c) => c.name);
/** "containers "a", "b" <what>" when some are bad, else nothing. */
const perContainer = (p: Pod, bad: (c: Container) => boolean, what: string): string[] => {
    const names = containersWhere(p, bad);
    return names.length > 0 ? [`container${names.length > 1 ? "s" : ""} ${quote(names)} ${what}`] : [];
};

/** Capabilities the baseline level lets a container add (the container runtime's default set). */
const BASELINE_CAPABILITIES = new Set([
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
]);
/** Sysctls considered safe (namespaced and isolated), as of 1.32. */
const SAFE_SYSCTLS = new Set([
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
]);
/** SELinux types a pod or container may set (as of 1.31). */
const SELINUX_TYPES = new Set(["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"]);
/** Volume sources the restricted level allows: the core ones and those defined through PersistentVolumes. */
const RESTRICTED_VOLUME_SOURCES = new Set([
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
]);
const SECCOMP_TYPES = new Set(["RuntimeDefault", "Localhost"]);
const APPARMOR_TYPES = new Set(["RuntimeDefault", "Localhost"]);
const APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/";
const PROBES = ["livenessProbe", "readinessProbe", "startupProbe"] as const;
const LIFECYCLE_HOOKS = ["postStart", "preStop"] as const;

/** Host fields of a container's probes and lifecycle hooks that are set (non-empty). */
function hostFields(c: Container): string[] {
    const handlers = [
        ...PROBES.map((p) => [p, c.json[p]] as const),
        ...LIFECYCLE_HOOKS.map((h) => [`lifecycle.${h}`, record(c.json.lifecycle)[h]] as const),
    ];
    return handlers.flatMap(([where, handler]) =>
        (["httpGet", "tcpSocket"] as const)
            .filter((kind) => {
                const host = record(record(handler)[kind]).host;
                return host !== undefined && host !== null && host !== "";
            })
            .map((kind) => `${where}.${kind}.host`),
    );
}

interface Check {
    readonly id: string;
    readonly level: PodSecurityLevel;
    /** Baseline checks the restricted level replaces with this one. */
    readonly replaces?: string;
    readonly problems: (p: Pod) => string[];
}

/** Every check of both levels, in the order the Pod Security Standards page lists the controls. */
export const CHECKS: readonly Check[] = [
    {
        id: "windowsHostProcess",
        level: "baseline",
        problems: (p) => [
            ...(record(p.sc.windowsOptions).hostProcess === true ? ["pod sets windowsOptions.hostProcess"] : []),
            ...perContainer(
                p,
                (c) => record(c.sc.windowsOptions).hostProcess === true,
                "set windowsOptions.hostProcess",
            ),
        ],
    },
    {
        id: "hostNamespaces",
        level: "baseline",
        problems: (p) =>
            (["hostNetwork", "hostPID", "hostIPC"] as const).filter((f) => p.spec[f] === true).map((f) => `${f}: true`),
    },
    {
        id: "privileged",
        level: "baseline",
        problems: (p) => perContainer(p, (c) => c.sc.privileged === true, "set privileged: true"),
    },
    {
        id: "capabilities_baseline",
        level: "baseline",
        problems: (p) => {
            const added = p.containers.flatMap((c) =>
                asArray(record(c.sc.capabilities).add)
                    .map(String)
                    .filter((cap) => !BASELINE_CAPABILITIES.has(cap))
                    .map((cap) => `container ${JSON.stringify(c.name)} adds ${cap}`),
            );
            return added;
        },
    },
    {
        id: "hostPathVolumes",
        level: "baseline",
        problems: (p) =>
            asArray(p.spec.volumes)
                .filter((v) => isRecord(v?.hostPath))
                .map((v) => `volume ${JSON.stringify(String(v.name))} is a hostPath`),
    },
    {
        id: "hostPorts",
        level: "baseline",
        problems: (p) =>
            perContainer(
                p,
                (c) => asArray(c.json.ports).some((port) => ![undefined, null, 0].includes(port?.hostPort)),
                "set a hostPort",
            ),
    },
    {
        id: "hostProbesAndHostLifecycle",
        level: "baseline",
        problems: (p) =>
            p.containers.flatMap((c) => hostFields(c).map((f) => `container ${JSON.stringify(c.name)} sets ${f}`)),
    },
    {
        id: "appArmorProfile",
        level: "baseline",
        problems: (p) => {
            const bad = (sc: Record<string, Json>) =>
                isRecord(sc.appArmorProfile) && !APPARMOR_TYPES.has(String(sc.appArmorProfile.type));
            return [
                ...(bad(p.sc) ? [`pod sets appArmorProfile.type ${p.sc.appArmorProfile.type}`] : []),
                ...perContainer(
                    p,
                    (c) => bad(c.sc),
                    "set an appArmorProfile.type other than RuntimeDefault or Localhost",
                ),
                ...Object.entries(p.annotations)
                    .filter(
                        ([k, v]) =>
                            k.startsWith(APPARMOR_ANNOTATION) &&
                            !(v === "" || v === "runtime/default" || String(v).startsWith("localhost/")),
                    )
                    .map(([k, v]) => `annotation ${k}=${JSON.stringify(v)}`),
            ];
        },
    },
    {
        id: "seLinuxOptions",
        level: "baseline",
        problems: (p) => {
            const bad = (sc: Record<string, Json>) => {
                if (!isRecord(sc.seLinuxOptions)) return false;
                const o = sc.seLinuxOptions;
                return !SELINUX_TYPES.has(String(o.type ?? "")) || Boolean(o.user) || Boolean(o.role);
            };
            return [
                ...(bad(p.sc) ? ["pod sets a forbidden seLinuxOptions type, user or role"] : []),
                ...perContainer(p, (c) => bad(c.sc), "set a forbidden seLinuxOptions type, user or role"),
            ];
        },
    },
    {
        id: "procMount",
        level: "baseline",
        problems: (p) =>
            perContainer(
                p,
                (c) => c.sc.procMount != null && c.sc.procMount !== "Default",
                "set a procMount other than Default",
            ),
    },
    {
        id: "seccompProfile_baseline",
        level: "baseline",
        problems: (p) => {
            const bad = (sc: Record<string, Json>) =>
                isRecord(sc.seccompProfile) && !SECCOMP_TYPES.has(String(sc.seccompProfile.type));
            return [
                ...(bad(p.sc) ? [`pod sets seccompProfile.type ${p.sc.seccompProfile.type}`] : []),
                ...perContainer(
                    p,
                    (c) => bad(c.sc),
                    "set a seccompProfile.type other than RuntimeDefault or Localhost",
                ),
            ];
        },
    },
    {
        id: "sysctls",
        level: "baseline",
        problems: (p) =>
            asArray(p.sc.sysctls)
                .map((s) => String(s?.name))
                .filter((name) => !SAFE_SYSCTLS.has(name))
                .map((name) => `pod sets sysctl ${name}`),
    },
    {
        id: "restrictedVolumes",
        level: "restricted",
        problems: (p) =>
            asArray(p.spec.volumes).flatMap((v) =>
                Object.keys(record(v))
                    .filter((source) => source !== "name" && !RESTRICTED_VOLUME_SOURCES.has(source))
                    .map((source) => `volume ${JSON.stringify(String(v.name))} is a ${source} volume`),
            ),
    },
    {
        id: "allowPrivilegeEscalation",
        level: "restricted",
        problems: (p) =>
            p.windows
                ? []
                : perContainer(
                      p,
                      (c) => c.sc.allowPrivilegeEscalation !== false,
                      "must set allowPrivilegeEscalation: false",
                  ),
    },
    {
        id: "runAsNonRoot",
        level: "restricted",
        problems: (p) => [
            ...(p.sc.runAsNonRoot === false ? ["pod sets runAsNonRoot: false"] : []),
            ...perContainer(p, (c) => c.sc.runAsNonRoot === false, "set runAsNonRoot: false"),
            ...perContainer(
                p,
                (c) => c.sc.runAsNonRoot == null && p.sc.runAsNonRoot !== true,
                "must set runAsNonRoot: true (or the pod must)",
            ),
        ],
    },
    {
        id: "runAsUser",
        level: "restricted",
        problems: (p) => [
            ...(p.sc.runAsUser === 0 ? ["pod sets runAsUser: 0"] : []),
            ...perContainer(p, (c) => c.sc.runAsUser === 0, "set runAsUser: 0"),
        ],
    },
    {
        id: "seccompProfile_restricted",
        level: "restricted",
        replaces: "seccompProfile_baseline",
        problems: (p) => {
            if (p.windows) return [];
            const valid = (sc: Record<string, Json>) =>
                isRecord(sc.seccompProfile) && SECCOMP_TYPES.has(String(sc.seccompProfile.type));
            const podSet = valid(p.sc);
            return [
                ...(isRecord(p.sc.seccompProfile) && !podSet
                    ? [`pod sets seccompProfile.type ${p.sc.seccompProfile.type}`]
                    : []),
                ...perContainer(
                    p,
                    (c) => (isRecord(c.sc.seccompProfile) ? !valid(c.sc) : !podSet),
                    "must have seccompProfile.type RuntimeDefault or Localhost (or the pod must)",
                ),
            ];
        },
    },
    {
        id: "capabilities_restricted",
        level: "restricted",
        replaces: "capabilities_baseline",
        problems: (p) => {
            if (p.windows) return [];
            const caps = (c: Container) => record(c.sc.capabilities);
            return [
                ...perContainer(p, (c) => !asArray(caps(c).drop).includes("ALL"), 'must drop ["ALL"] capabilities'),
                ...perContainer(
                    p,
                    (c) => asArray(caps(c).add).some((cap) => cap !== "NET_BIND_SERVICE"),
                    "may add no capability but NET_BIND_SERVICE",
                ),
            ];
        },
    },
];

/** The checks a level runs: its own and the lower level's, less those it replaces. */
export function checksOf(level: PodSecurityLevel): Check[] {
    const own = CHECKS.filter((c) => level === "restricted" || c.level === "baseline");
    const replaced = new Set(own.flatMap((c) => (c.replaces ? [c.replaces] : [])));
    return own.filter((c) => !replaced.has(c.id));
}

/** Every way a pod breaks the level, each with the check it fails; empty when the admission would admit it. */
export function podSecurityProblems(pod: PodTemplate, level: PodSecurityLevel): PodSecurityProblem[] {
    const p = view(pod);
    return checksOf(level).flatMap((c) => c.problems(p).map((detail) => ({ check: c.id, level: c.level, detail })));
}

/** One line per problem, for messages. */
export const formatPodSecurityProblems = (problems: readonly PodSecurityProblem[]) =>
    problems.map((p) => `${p.check}: ${p.detail}`).join("; ");
