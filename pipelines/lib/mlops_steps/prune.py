#!/usr/bin/env python3
"""Deletes finished PipelineRuns beyond the newest KEEP_RUNS per pipeline in NAMESPACE (their TaskRuns and pods
go with them). Runs hourly from the run-pruner CronJob.
"""

import os
import sys
from typing import Any


def to_delete(runs: list[dict[str, Any]], keep: int) -> list[str]:
    """Names of finished runs to delete: all but the newest `keep` per pipeline. A pure function."""
    by_pipeline: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        if not run.get("status", {}).get("completionTime"):
            continue
        pipeline = run["metadata"].get("labels", {}).get("tekton.dev/pipeline", "")
        by_pipeline.setdefault(pipeline, []).append(run)
    names: list[str] = []
    for finished in by_pipeline.values():
        finished.sort(key=lambda r: r["metadata"]["creationTimestamp"], reverse=True)
        names.extend(r["metadata"]["name"] for r in finished[keep:])
    return sorted(names)


def main() -> int:
    from mlops_steps import kube

    ns, keep = os.environ["NAMESPACE"], int(os.environ["KEEP_RUNS"])
    client = kube.connect()
    for name in to_delete(client.list("tekton.dev/v1", "PipelineRun", ns), keep):
        client.delete("tekton.dev/v1", "PipelineRun", ns, name)
        print(f"deleted pipelinerun {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
