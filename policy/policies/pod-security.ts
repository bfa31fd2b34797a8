/**
 * A workload the stack creates in a namespace the stack labels with a Pod Security level (`pod-security.kubernetes.io/
 * enforce`) meets that level, so Kubernetes admits its pods: found at preview rather than as a controller that
 * never gets a pod. Tekton Tasks and runs are not judged here (Tekton builds their pods at run time, adding
 * containers of its own), nor pods in namespaces the stack does not create.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import {
    formatPodSecurityProblems,
    podSecurityProblems,
    POD_SECURITY_LEVELS,
    type PodSecurityLevel,
} from "../lib/pod-security";
import { podSpecsOf } from "../lib/pod-specs";
import { kubernetesKind, objectRef } from "../lib/resources";

export const PSA_ENFORCE_LABEL = "pod-security.kubernetes.io/enforce";

export const podsMeetNamespacePodSecurity: StackValidationPolicy = {
    name: "pods-meet-namespace-pod-security",
    description:
        "Every workload the stack creates in a namespace that enforces a Pod Security level (baseline or restricted) meets that level, every container included.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const levels = new Map<string, PodSecurityLevel>();
        for (const r of args.resources) {
            const k = kubernetesKind(r.type);
            const level = r.props.metadata?.labels?.[PSA_ENFORCE_LABEL];
            if (k?.group === "" && k.kind === "Namespace" && POD_SECURITY_LEVELS.includes(level))
                levels.set(String(r.props.metadata.name), level);
        }
        for (const r of args.resources) {
            const level = levels.get(String(r.props.metadata?.namespace));
            if (!level) continue;
            for (const v of podSpecsOf(r.type, r.props)) {
                if (!v.pod) continue;
                const problems = podSecurityProblems(v.pod, level);
                if (problems.length > 0)
                    reportViolation(
                        `${r.type} ${objectRef(r.props)}: ${v.where} breaks Pod Security ${level}, which its namespace enforces: ${formatPodSecurityProblems(problems)}.`,
                        r.urn,
                    );
            }
        }
    },
};
