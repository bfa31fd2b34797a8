/**
 * The study's stack: `existing-example` (an existing cluster: the platform that runs on any Kubernetes, so nothing of
 * it needs a cloud) with its store made `external` and pointed at moto's S3 server on loopback, a model with two CPU
 * versions routed `single` (all traffic on one, the other the standby slot, so every delivery switches the route at
 * once; the side-by-side and recovery runs ask for a canary of two 30-second steps), alerts that fire after 15 s instead of 10 min (the study waits for them), and the source repository on a
 * git host name that git rewrites to the study's local repository.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { PROJECT_ROOT } from "../stack";
import { ADDRESSES, STORE_PORT } from "./services";

export const STUDY_STACK = "study";
export const BASE_STACK = "existing-example";
export const GIT_HOST = "https://git.study.local/";
export const SOURCE_REPOSITORY = `${GIT_HOST}models.git`;
export const STORE_CREDENTIALS_SECRET = { namespace: "pipelines", name: "study-store-keys" } as const;

/** `mlops-testbed:` keys the study sets over the base stack's. */
export function studyConfig(models: readonly string[]): Record<string, unknown> {
    return {
        existing: {
            store: {
                kind: "external",
                endpoint: `http://${ADDRESSES.store}:${STORE_PORT}`,
                region: "us-east-1",
                buckets: { models: "models", datasets: "datasets" },
                credentialsSecret: `${STORE_CREDENTIALS_SECRET.namespace}/${STORE_CREDENTIALS_SECRET.name}`,
            },
        },
        monitoring: { alerts: { servingFor: "15s" } },
        // Canaries of two steps, analysed after 30 s (the least the config allows): a study run takes minutes.
        pipelines: {
            sourceRepository: SOURCE_REPOSITORY,
            promotion: { canarySteps: [50, 100], analysisIntervalSeconds: 30 },
        },
        models: models.map((name) => ({
            name,
            versions: [{ name: "v1" }, { name: "v2" }],
            traffic: { strategy: "single", weights: { v1: 100, v2: 0 } },
        })),
    };
}

/** Writes Pulumi.yaml and Pulumi.study.yaml (the base stack's file with the study's keys) into `dir`. */
export function writeStudyStack(dir: string, models: readonly string[]): string {
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    const doc = parse(fs.readFileSync(path.join(PROJECT_ROOT, `Pulumi.${BASE_STACK}.yaml`), "utf8")) as {
        config: Record<string, unknown>;
    };
    // The SeaweedFS volume's size has no meaning for an external store (validation refuses it).
    const { storeSize: _seaweedfsOnly, ...base } = doc.config["mlops-testbed:existing"] as Record<string, unknown>;
    void _seaweedfsOnly;
    const study = studyConfig(models);
    doc.config["mlops-testbed:existing"] = { ...base, ...(study.existing as object) };
    for (const key of ["monitoring", "pipelines"] as const)
        doc.config[`mlops-testbed:${key}`] = {
            ...(doc.config[`mlops-testbed:${key}`] as object),
            ...(study[key] as object),
        };
    doc.config["mlops-testbed:models"] = study.models;
    fs.writeFileSync(path.join(dir, `Pulumi.${STUDY_STACK}.yaml`), stringify(doc));
    return dir;
}
