import datetime
import importlib.metadata
import json
import os
import subprocess
import sys
import tempfile
import threading
import unittest
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from unittest import mock

from mlops_steps import kube, metrics, prune, store

from tests.helpers import LIB, TASKS, load

METRIC_ENV = {
    "MLOPS_METRIC_DEPLOY_LEAD_TIME": "lead",
    "MLOPS_METRIC_DELIVERY_RESULT": "result",
    "MLOPS_METRIC_TRAINING_ACCURACY": "train_acc",
    "MLOPS_METRIC_EVALUATION_ACCURACY": "eval_acc",
    "MLOPS_METRIC_DATASET_INFO": "dataset",
    "MLOPS_METRIC_LAST_ROLLBACK": "rollback",
    "MLOPS_METRIC_STAGE_DURATION": "stage",
    "MLOPS_METRIC_RECOVERY_TIME": "recovery",
    "MLOPS_METRIC_DELIVERY_ROLLBACKS": "rollbacks",
    "MLOPS_METRIC_DELIVERY_END": "end",
    "MLOPS_METRIC_DELIVERY_CPU_SECONDS": "cpu",
    "MLOPS_METRIC_DELIVERY_GPU_SECONDS": "gpu",
    "MLOPS_METRIC_DELIVERY_MEMORY_BYTE_SECONDS": "mem",
    "MLOPS_METRIC_DELIVERY_HUMAN_ACTIONS": "actions",
    "MLOPS_METRIC_DELIVERY_HANDS_ON_SECONDS": "hands_on",
    "MLOPS_METRIC_TASKRUN_CPU_SECONDS": "tr_cpu",
    "MLOPS_METRIC_TASKRUN_GPU_SECONDS": "tr_gpu",
    "MLOPS_METRIC_TASKRUN_MEMORY_BYTE_SECONDS": "tr_mem",
    "MLOPS_METRIC_TASKRUN_START": "tr_start",
}


def usage_group(run, task, cpu, mem, gpu, start, job="mlops-delivery"):
    """A per-TaskRun group as the Pushgateway's /api/v1/metrics lists what step_usage.sh pushed."""
    g = {"labels": {"job": job, "run": run, "pipeline_task": task}}
    for name, value in (("tr_cpu", cpu), ("tr_mem", mem), ("tr_gpu", gpu), ("tr_start", start)):
        g[name] = {"type": "GAUGE", "metrics": [{"labels": dict(g["labels"]), "value": str(value)}]}
    return g


class ValidateData(unittest.TestCase):
    v = load("validate-data", "validate_data.py")
    header = ["a", "b", "target"]

    def test_valid(self):
        rows = [["1", "2", "x"], ["3", "4", "y"]] * 20
        self.assertEqual(self.v.schema_problems(self.header, rows, 30), [])

    def test_problems(self):
        rows = [["1", "nan", "x"], ["3", "", "x"], ["1", "2"]]
        problems = self.v.schema_problems(self.header, rows, 30)
        self.assertIn("3 rows, fewer than the minimum 30", problems)
        self.assertIn("row 4 has 2 fields, the header 3", problems)
        self.assertIn("2 feature values are empty, non-numeric or not finite", problems)
        self.assertIn("fewer than two classes in 'target'", problems)
        self.assertIn("no 'target' column", self.v.schema_problems(["a"], [["1"]] * 40, 30))

    def test_refuses_unknown_dataset_spec(self):
        with self.assertRaises(ValueError):
            self.v.fetch_dataset("http://x", "/tmp/x.csv", ".")

    def test_builtin_data_names_its_source_not_the_local_copy(self):
        workload = os.path.join(os.path.dirname(TASKS), "workload")
        with tempfile.TemporaryDirectory() as d:
            version, source = self.v.fetch_dataset("builtin:iris", os.path.join(d, "train.csv"), workload)
        self.assertRegex(version, r"^builtin-iris-[0-9a-f]{12}$")
        # The model card's dataset source: what was fetched, never the pod-local path.
        self.assertEqual(source, "builtin:iris")


class Route(unittest.TestCase):
    r = load("route", "route.py")
    route = {
        "metadata": {"name": "iris-abc"},
        "spec": {
            "rules": [
                {
                    "backendRefs": [
                        {"name": "model-server", "namespace": "iris-v1", "port": 8080, "weight": 90},
                        {"name": "model-server", "namespace": "iris-v2", "port": 8080, "weight": 10},
                    ]
                }
            ]
        },
    }

    def test_switch(self):
        out = self.r.switch_to(self.route, "iris", "v2")
        self.assertEqual([b["weight"] for b in out["spec"]["rules"][0]["backendRefs"]], [0, 100])
        self.assertEqual(self.route["spec"]["rules"][0]["backendRefs"][0]["weight"], 90, "input untouched")

    def test_unknown_version_and_shadow(self):
        with self.assertRaisesRegex(self.r.RouteError, "not a backend"):
            self.r.switch_to(self.route, "iris", "v9")
        shadow = {"metadata": {}, "spec": {"rules": [{"filters": [{"type": "RequestMirror"}], "backendRefs": []}]}}
        with self.assertRaisesRegex(self.r.RouteError, "mirrors"):
            self.r.switch_to(shadow, "iris", "v1")


def model_route(model, weights, mirrors=(), strategy="canary"):
    """A model's HTTPRoute as components/models/model-routing.ts renders it."""

    def ref(v):
        return {"name": "model-server", "namespace": f"{model}-{v}", "port": 8080}

    filters = [{"type": "URLRewrite"}] + [
        {"type": "RequestMirror", "requestMirror": {"backendRef": ref(v)}} for v in mirrors
    ]
    return {
        "metadata": {
            "name": f"{model}-0a1b2c3d",
            "labels": {"mlops-testbed/model": model, "mlops-testbed/traffic-strategy": strategy},
        },
        "spec": {"rules": [{"filters": filters, "backendRefs": [{**ref(v), "weight": w} for v, w in weights]}]},
    }


class ChooseVersions(unittest.TestCase):
    c = load("choose-versions", "choose.py")

    def chosen(self, route, version="", strategy=""):
        out = self.c.choose(route, "iris", version, strategy)
        return (out["version"], out["baseline"], out["strategy"], out["rollout"])

    def test_retrain_goes_to_the_standby_slot_and_compares_with_the_serving_one(self):
        self.assertEqual(
            self.chosen(model_route("iris", [("v1", 90), ("v2", 10)])), ("v2", "v1", "canary", "progressive")
        )
        self.assertEqual(
            self.chosen(model_route("iris", [("v1", 0), ("v2", 100)], strategy="blue-green")),
            ("v1", "v2", "blue-green", "progressive"),
        )
        # Three versions: the least served, first on the route among equals; never the one serving most.
        self.assertEqual(
            self.chosen(model_route("iris", [("v1", 100), ("v2", 0), ("v3", 0)])), ("v2", "v1", "canary", "progressive")
        )
        self.assertEqual(
            self.chosen(model_route("iris", [("v1", 50), ("v2", 50)])), ("v2", "v1", "canary", "progressive")
        )

    def test_promotion_then_rollback_alternate_the_slots(self):
        route = model_route("iris", [("v1", 100), ("v2", 0)], strategy="blue-green")
        self.assertEqual(self.chosen(route)[0], "v2")
        promoted = model_route("iris", [("v1", 0), ("v2", 100)], strategy="blue-green")
        self.assertEqual(self.chosen(promoted)[:2], ("v1", "v2"))

    def test_shadow_candidate_is_a_mirror_and_baseline_the_serving_version(self):
        route = model_route("iris", [("v1", 100)], mirrors=["v2", "v3"], strategy="shadow")
        self.assertEqual(self.chosen(route), ("v2", "v1", "shadow", "progressive"))
        self.assertEqual(self.chosen(route, "v3"), ("v3", "v1", "shadow", "progressive"))

    def test_single_switches_and_one_version_redeploys_in_place(self):
        self.assertEqual(
            self.chosen(model_route("iris", [("v1", 100)], strategy="single")), ("v1", "", "single", "in-place")
        )
        self.assertEqual(
            self.chosen(model_route("iris", [("v1", 100), ("v2", 0)], strategy="single")),
            ("v2", "v1", "single", "switch"),
        )
        # A redeploy of the version serving everything has nothing to compare with.
        self.assertEqual(
            self.chosen(model_route("iris", [("v1", 100), ("v2", 0)]), "v1"), ("v1", "", "canary", "in-place")
        )

    def test_strategy_param_overrides_the_route_label(self):
        self.assertEqual(
            self.chosen(model_route("iris", [("v1", 100), ("v2", 0)]), strategy="blue-green")[2:],
            ("blue-green", "progressive"),
        )
        self.assertEqual(self.chosen(model_route("iris", [("v1", 100), ("v2", 0)]), strategy="single")[3], "switch")

    def test_refuses_unknown_versions_strategies_and_foreign_backends(self):
        route = model_route("iris", [("v1", 90), ("v2", 10)])
        with self.assertRaisesRegex(self.c.ChooseError, "v9 is not a backend.*versions: v1, v2"):
            self.c.choose(route, "iris", "v9")
        with self.assertRaisesRegex(self.c.ChooseError, "strategy 'rainbow'"):
            self.c.choose(route, "iris", "", "rainbow")
        unlabelled = {**route, "metadata": {"name": "x"}}
        with self.assertRaisesRegex(self.c.ChooseError, "strategy ''"):
            self.c.choose(unlabelled, "iris")
        with self.assertRaisesRegex(self.c.ChooseError, "not a version of iris"):
            self.c.choose(model_route("wine", [("v1", 100)]), "iris")
        self.assertEqual(route["spec"]["rules"][0]["backendRefs"][1]["weight"], 10, "input untouched")


class Deploy(unittest.TestCase):
    d = load("deploy", "deploy.py")
    env = {
        "MODEL": "iris",
        "VERSION": "v2",
        "IMAGE": "repo/model-server:c@sha256:" + "0" * 64,
        "REPLICAS": "",
        "GPU": "",
        "STORE_KIND": "s3",
        "MODELS_BUCKET": "models-b",
        "STORE_REGION": "eu-west-1",
        "GPU_NODE_SELECTOR": '{"gpu": "true"}',
        "GPU_TOLERATIONS": '[{"key": "nvidia.com/gpu", "operator": "Exists"}]',
    }
    resources = {
        "server": {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "1Gi"}},
        "fetcher": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
    }
    configmap = {
        "data": {
            "replicas": "2",
            "gpu": "0",
            "max-replicas": "5",
            "max-surge": "1",
            "pod-resources": json.dumps(resources),
            "pod-labels": "{}",
            "pod-env-from": "[]",
        }
    }

    def settings(self, **data):
        return self.d.deploy_settings({"data": {**self.configmap["data"], **data}})

    def test_objects(self):
        objs = self.d.manifests(self.env, self.settings())
        self.assertEqual([o["kind"] for o in objs], ["Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget"])
        self.assertTrue(all(o["metadata"]["namespace"] == "iris-v2" for o in objs))
        pod = objs[0]["spec"]["template"]
        self.assertEqual(pod["metadata"]["labels"]["app.kubernetes.io/name"], "model-server")
        spec = pod["spec"]
        self.assertEqual(spec["serviceAccountName"], "model-server")
        self.assertEqual(spec["initContainers"][0]["command"][-2:], ["models/iris/v2/@latest/", "/model"])
        self.assertEqual(spec["initContainers"][0]["resources"], self.resources["fetcher"])
        pinned = self.d.manifests({**self.env, "BUILD": "20261123T101500Z-abc1234"}, self.settings())
        self.assertEqual(
            pinned[0]["spec"]["template"]["spec"]["initContainers"][0]["command"][-2],
            "models/iris/v2/20261123T101500Z-abc1234/",
        )
        self.assertTrue(spec["securityContext"]["runAsNonRoot"])
        self.assertNotIn("nodeSelector", spec)
        self.assertEqual(objs[0]["spec"]["replicas"], 2, "replicas from the settings when the param is empty")
        self.assertEqual(objs[0]["spec"]["strategy"]["rollingUpdate"], {"maxSurge": 1, "maxUnavailable": 0})
        self.assertEqual((objs[1]["spec"]["minReplicas"], objs[1]["spec"]["maxReplicas"]), (2, 5))
        self.assertEqual(spec["containers"][0]["resources"]["requests"], {"cpu": "250m", "memory": "512Mi"})
        ports = {p["name"]: p["containerPort"] for p in spec["containers"][0]["ports"]}
        self.assertEqual(ports, {"http": 8080, "metrics": 9090})

    def test_params_override_the_settings_only_when_set(self):
        objs = self.d.manifests({**self.env, "REPLICAS": "7"}, self.settings())
        self.assertEqual(objs[0]["spec"]["replicas"], 7)
        self.assertEqual(objs[1]["spec"]["maxReplicas"], 7, "the HPA maximum is never below its minimum")
        gpu = self.d.manifests({**self.env, "GPU": "1"}, self.settings())[0]["spec"]
        self.assertEqual(gpu["template"]["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"], "1")
        self.assertEqual(gpu["strategy"]["rollingUpdate"], {"maxSurge": 0, "maxUnavailable": 1})

    def test_gpu_versions_and_quota_at_the_limit_replace_instead_of_surging(self):
        gpu = self.d.manifests(self.env, self.settings(gpu="1", **{"max-surge": "0"}))[0]["spec"]
        self.assertEqual(gpu["strategy"]["rollingUpdate"], {"maxSurge": 0, "maxUnavailable": 1})
        full = self.d.manifests(self.env, self.settings(**{"max-surge": "0"}))[0]["spec"]
        self.assertEqual(full["strategy"]["rollingUpdate"], {"maxSurge": 0, "maxUnavailable": 1})

    def test_identity_from_the_namespace_settings(self):
        settings = self.settings(
            **{
                "pod-labels": '{"azure.workload.identity/use": "true"}',
                "pod-env-from": '[{"secretRef": {"name": "model-server-store-credentials"}}]',
            }
        )
        objs = self.d.manifests(self.env, settings)
        pod = objs[0]["spec"]["template"]
        self.assertEqual(pod["metadata"]["labels"]["azure.workload.identity/use"], "true")
        self.assertEqual(pod["metadata"]["labels"]["app.kubernetes.io/name"], "model-server")
        fetch = pod["spec"]["initContainers"][0]
        self.assertEqual(fetch["envFrom"], [{"secretRef": {"name": "model-server-store-credentials"}}])
        self.assertNotIn("envFrom", pod["spec"]["containers"][0])
        with self.assertRaisesRegex(self.d.SettingsError, "pod-env-from must be a JSON list"):
            self.settings(**{"pod-env-from": "{}"})
        with self.assertRaisesRegex(self.d.SettingsError, "key max-replicas is missing; run pulumi up"):
            self.d.deploy_settings({"data": {k: v for k, v in self.configmap["data"].items() if k != "max-replicas"}})

    def test_gpu_and_zero_replicas(self):
        objs = self.d.manifests({**self.env, "GPU": "1", "REPLICAS": "0"}, self.settings())
        self.assertEqual([o["kind"] for o in objs], ["Deployment"])
        spec = objs[0]["spec"]["template"]["spec"]
        self.assertEqual(spec["containers"][0]["resources"]["limits"]["nvidia.com/gpu"], "1")
        self.assertEqual(spec["nodeSelector"], {"gpu": "true"})
        self.assertEqual(spec["tolerations"][0]["key"], "nvidia.com/gpu")

    def test_only_images_pinned_by_digest(self):
        self.assertIsNone(self.d.image_problem("repo/model-server:c@sha256:" + "0" * 64))
        self.assertIsNone(
            self.d.image_problem("123.dkr.ecr.eu-west-1.amazonaws.com/c/model-server@sha256:" + "ab" * 32)
        )
        for bad in ("repo/model-server:latest", "repo/model-server", "repo@sha256:abc", "", "repo@sha256:" + "G" * 64):
            self.assertRegex(self.d.image_problem(bad), "not pinned by digest", bad)


class Smoke(unittest.TestCase):
    s = load("smoke-test", "smoke.py")

    def test_check(self):
        self.assertEqual(self.s.check_prediction({"predictions": [0, 1], "version": "v2"}, [[1], [2]], "v2"), [])
        self.assertEqual(len(self.s.check_prediction({"predictions": [0], "version": "v1"}, [[1], [2]], "v2")), 2)


class Report(unittest.TestCase):
    r = load("report", "report.py")
    base = {
        **METRIC_ENV,
        "MODEL": "iris",
        "VERSION": "v2",
        "MODE": "automated",
        "STUDY_TASK": "deploy-new-version",
        "MLOPS_PIPELINE_RUN": "deploy-x7k2p",
        "RECOVERING_TASKS": '["rollback-bad-version", "recover-failed-deployment"]',
    }
    ns = {"namespace": "iris-v2", "concurrency": "1"}
    delivery_key = (
        ("task", "deploy-new-version"),
        ("run", "deploy-x7k2p"),
        ("model", "iris"),
        ("version", "v2"),
        ("mode", "automated"),
        ("part", "delivery"),
    )

    def groups(self, env, now, pushed=()):
        return {tuple(g): s for g, s in self.r.samples(env, now, pushed)}

    def test_deploy_success_pushes_lead_time_from_trigger(self):
        groups = self.groups(
            {**self.base, "EVENT": "deploy", "STATUS": "Succeeded", "TRIGGER_TIME": "1000", "STARTED_AT": "1500"},
            1600.0,
        )
        # One group per run of a study task (the run from the pod's label), so runs never overwrite each other.
        self.assertEqual(
            groups[self.delivery_key],
            [("result", self.ns, 1), ("lead", self.ns, 600.0), ("rollbacks", self.ns, 0), ("end", self.ns, 1600.0)],
        )

    def test_failed_deploy_has_result_zero_and_no_lead_time(self):
        [(_, s)] = self.r.samples({**self.base, "EVENT": "deploy", "STATUS": "Failed", "STARTED_AT": "1500"}, 1600.0)
        self.assertEqual(s, [("result", self.ns, 0), ("rollbacks", self.ns, 0), ("end", self.ns, 1600.0)])

    def test_trigger_time_in_rfc3339(self):
        env = {**self.base, "EVENT": "deploy", "STATUS": "Completed", "STARTED_AT": "1500"}
        for t in ("1970-01-01T00:16:40Z", "1970-01-01T01:16:40+01:00", "1970-01-01T00:16:40.000Z"):
            [(_, s)] = self.r.samples({**env, "TRIGGER_TIME": t}, 1600.0)
            self.assertEqual(s[1], ("lead", self.ns, 600.0), t)
        [(_, s)] = self.r.samples({**env, "TRIGGER_TIME": "yesterday"}, 1600.0)
        self.assertEqual(s[1][2], 100.0, "an unreadable trigger time falls back to the run's start")

    def test_resources_and_start_are_the_sums_of_the_runs_taskruns(self):
        pushed = [
            usage_group("deploy-x7k2p", "fetch-source", 1.5, 1000, 0, 1200),
            usage_group("deploy-x7k2p", "train", 30, 5e9, 60, 1250),
            usage_group("other-run", "train", 99, 9e9, 99, 1000),
            usage_group("deploy-x7k2p", "x", 99, 9e9, 99, 1000, job="promotion"),
        ]
        env = {**self.base, "EVENT": "deploy", "STATUS": "Succeeded", "HUMAN_ACTIONS": "1", "CONCURRENCY": "2"}
        s = self.groups(env, 1600.0, pushed)[self.delivery_key]
        labels = {"namespace": "iris-v2", "concurrency": "2"}
        self.assertEqual(
            s,
            [
                ("result", labels, 1),
                # No trigger time: the run started with its first TaskRun.
                ("lead", labels, 400.0),
                ("rollbacks", labels, 0),
                ("cpu", labels, 31.5),
                ("gpu", labels, 60.0),
                ("mem", labels, 5e9 + 1000),
                ("actions", labels, 1.0),
                ("end", labels, 1600.0),
            ],
        )

    def test_resources_leave_out_the_finally_tasks_that_measure_the_run(self):
        # report-training runs beside report: whether it pushed before report reads is a race, so it never counts.
        pushed = [
            usage_group("deploy-x7k2p", "train", 30, 5e9, 60, 1250),
            usage_group("deploy-x7k2p", "report-training", 0.5, 7e6, 0, 1590),
        ]
        env = {**self.base, "EVENT": "deploy", "STATUS": "Succeeded", "TRIGGER_TIME": "1000"}
        measured = {**env, "MEASURING_TASKS": '["report", "report-training"]'}
        s = self.groups(measured, 1600.0, pushed)[self.delivery_key]
        self.assertIn(("cpu", self.ns, 30.0), s)
        self.assertIn(("mem", self.ns, 5e9), s)
        # Without the list every TaskRun of the run counts, report-training's too.
        s = self.groups(env, 1600.0, pushed)[self.delivery_key]
        self.assertIn(("cpu", self.ns, 30.5), s)

    def test_a_run_without_usage_reports_no_resources_rather_than_zero(self):
        s = self.groups({**self.base, "EVENT": "deploy", "STATUS": "Failed"}, 1600.0)[self.delivery_key]
        self.assertEqual([n for n, _, _ in s], ["result", "rollbacks", "end"])

    def promotion(self, version, at):
        return {
            "labels": {"job": "promotion", "model": "iris", "version": version, "mode": "automated"},
            "rollback": {"metrics": [{"labels": {"namespace": f"iris-{version}"}, "value": str(at)}]},
        }

    def test_a_promotion_that_rolled_back_counts_a_rollback(self):
        pushed = [usage_group("deploy-x7k2p", "fetch-source", 1, 1, 0, 1200), self.promotion("v2", 1500)]
        env = {**self.base, "EVENT": "deploy", "STATUS": "Failed", "PROMOTE_STATUS": "Failed", "TRIGGER_TIME": "1100"}
        s = self.groups(env, 1600.0, pushed)[self.delivery_key]
        self.assertIn(("rollbacks", self.ns, 1), s)
        self.assertIn(("result", self.ns, 0), s, "deploying the new version failed")
        # For a task that recovers, the rollback is the recovery: from the push of the broken version to it.
        env = {**env, "STUDY_TASK": "recover-failed-deployment"}
        [(_, s)] = self.r.samples(env, 1600.0, pushed)
        self.assertEqual(
            s[:4],
            [
                ("result", self.ns, 1),
                ("lead", self.ns, 400.0),
                ("recovery", self.ns, 400.0),
                ("rollbacks", self.ns, 1),
            ],
        )

    def test_an_earlier_runs_rollback_or_a_promotion_that_did_not_fail_is_no_rollback(self):
        pushed = [usage_group("deploy-x7k2p", "fetch-source", 1, 1, 0, 1200), self.promotion("v2", 900)]
        env = {**self.base, "EVENT": "deploy", "STATUS": "Failed", "PROMOTE_STATUS": "Failed"}
        self.assertIn(("rollbacks", self.ns, 0), self.groups(env, 1600.0, pushed)[self.delivery_key])
        pushed[1] = self.promotion("v2", 1500)
        env["PROMOTE_STATUS"] = "None"
        self.assertIn(("rollbacks", self.ns, 0), self.groups(env, 1600.0, pushed)[self.delivery_key])

    def test_training_pushes_only_the_training_group(self):
        out = self.r.samples(
            {
                **self.base,
                "EVENT": "train",
                "STATUS": "Succeeded",
                "TRAIN_ACCURACY": "0.99",
                "EVAL_ACCURACY": "0.95",
                "DATASET_VERSION": "d1",
            },
            0,
            [usage_group("deploy-x7k2p", "train", 1, 1, 0, 0)],
        )
        self.assertEqual(
            [g for g, _ in out], [[("model", "iris"), ("version", "v2"), ("mode", "automated"), ("part", "training")]]
        )
        self.assertEqual([n for n, _, _ in out[0][1]], ["train_acc", "eval_acc", "dataset"])

    def test_rollback_records_recovery_from_the_alert_and_the_run_start_otherwise(self):
        env = {
            **self.base,
            "EVENT": "rollback",
            "STATUS": "Succeeded",
            "FROM_VERSION": "v3",
            "STUDY_TASK": "rollback-bad-version",
            "TRIGGER_TIME": "30",
            "HUMAN_ACTIONS": "0",
            "HANDS_ON_SECONDS": "0",
        }
        out = self.r.samples(env, 42.0)
        self.assertEqual(
            out[-1],
            (
                [("model", "iris"), ("version", "v3"), ("mode", "automated"), ("part", "rollback")],
                [("rollback", {"namespace": "iris-v3"}, 42.0)],
            ),
        )
        self.assertEqual(out[0][0][:2], [("task", "rollback-bad-version"), ("run", "deploy-x7k2p")])
        self.assertEqual(
            out[0][1],
            [
                ("result", self.ns, 1),
                ("lead", self.ns, 12.0),
                ("recovery", self.ns, 12.0),
                ("rollbacks", self.ns, 1),
                ("actions", self.ns, 0.0),
                ("hands_on", self.ns, 0.0),
                ("end", self.ns, 42.0),
            ],
        )
        # Started by a person without a trigger time: from the run's first TaskRun.
        del env["TRIGGER_TIME"]
        out = self.r.samples(env, 42.0, [usage_group("deploy-x7k2p", "smoke-test", 1, 1, 0, 20)])
        self.assertIn(("recovery", self.ns, 22.0), out[0][1])


class Register(unittest.TestCase):
    r = load("register", "register.py")

    def test_model_card(self):
        with tempfile.TemporaryDirectory() as d:
            json.dump(
                {
                    "model": "logreg",
                    "seed": 42,
                    "features": ["a"],
                    "train_accuracy": 1.0,
                    "trained_at": "t",
                    "data": "x.csv",
                },
                open(os.path.join(d, "params.json"), "w"),
            )
            json.dump({"accuracy": 0.9, "n": 10}, open(os.path.join(d, "metrics.json"), "w"))
            card = self.r.model_card(
                d,
                {
                    "MODEL": "iris",
                    "VERSION": "v2",
                    "COMMIT": "abc",
                    "DATASET_VERSION": "dv",
                    "DATASET_SOURCE": "store:iris/2025-01.csv",
                    "DATASETS_BUCKET": "mlops-datasets",
                    "MLOPS_PIPELINE_RUN": "run-1",
                    "STARTED_AT": "0",
                },
                now=60,
            )
        self.assertEqual(card["source"]["git_commit"], "abc")
        # The store key of the data, not the pod-local copy params.json names (x.csv).
        self.assertEqual(
            card["dataset"], {"version": "dv", "source": "store:iris/2025-01.csv", "bucket": "mlops-datasets"}
        )
        self.assertEqual(card["metrics"], {"train_accuracy": 1.0, "accuracy": 0.9, "n": 10})
        self.assertEqual(card["timestamps"]["registered"], "1970-01-01T00:01:00Z")
        self.assertEqual(card["pipeline_run"], "run-1")


class BuildImage(unittest.TestCase):
    b = load("build-image", "prepare.py")

    def test_containerfile_has_no_run_and_a_non_root_user(self):
        text = self.b.containerfile("python:3.12", "/opt/step-runtime")
        self.assertTrue(text.startswith("FROM python:3.12\n"))
        self.assertNotIn("RUN ", text)
        self.assertIn("USER 65532:65532", text)

    def test_copies_the_step_package_as_the_model_loader_and_logs_in_as_the_setting_says(self):
        with tempfile.TemporaryDirectory() as d:
            src, ctx = (os.path.join(d, x) for x in ("src", "ctx"))
            os.makedirs(os.path.join(src, "tests"))
            open(os.path.join(src, "server.py"), "w").write("print('serve')\n")
            env = {
                "MODEL_SRC": src,
                "LIB": LIB,
                "BASE_IMAGE": "python:3.12",
                "RUNTIME_PACKAGES": "/opt/step-runtime",
                "IMAGE_REPOSITORY": "registry.example.com/mlops/model-server",
                "REGISTRY_LOGIN": "none",
                "COMMIT": "abc1234",
                "CONTEXT": ctx,
                "AUTH_FILE": os.path.join(d, "auth.json"),
            }
            with mock.patch.dict(os.environ, env, clear=True):
                self.assertEqual(self.b.main(), 0)
            # The init container runs `python -m mlops_steps.store` from the image's /app.
            self.assertTrue(os.path.isfile(os.path.join(ctx, "app", "mlops_steps", "store.py")))
            self.assertTrue(os.path.isfile(os.path.join(ctx, "app", "mlops_steps", "__init__.py")))
            self.assertFalse(os.path.exists(os.path.join(ctx, "app", "tests")))
            # Nothing but the app: the packages are the base image's (the step runtime).
            self.assertEqual(sorted(os.listdir(ctx)), ["Containerfile", "app"])
            with open(os.path.join(ctx, "Containerfile")) as f:
                self.assertIn("ENV PYTHONPATH=/opt/step-runtime:/app ", f.read())
            self.assertEqual(json.load(open(env["AUTH_FILE"])), {"auths": {}})
            self.assertEqual(os.stat(env["AUTH_FILE"]).st_mode & 0o777, 0o600)
            with mock.patch.dict(os.environ, {**env, "REGISTRY_LOGIN": "docker-hub"}, clear=True):
                self.assertEqual(self.b.main(), 1, "an unknown login is refused")

    def test_push_verifies_tls_as_the_registry_setting_says(self):
        """build-push.sh with a stand-in buildah that records its arguments and writes a digest: one build for every
        platform into a manifest list, then the list pushed with its images."""
        with tempfile.TemporaryDirectory() as d:
            bindir = os.path.join(d, "bin")
            os.makedirs(bindir)
            fake = os.path.join(bindir, "buildah")
            with open(fake, "w") as f:
                f.write(
                    "#!/bin/sh\n"
                    'echo "$*" >> "$CALLS"\n'
                    'case "$*" in *" push "*) printf sha256:%064d 0 > "$DIGEST_FILE";; esac\n'
                )
            os.chmod(fake, 0o755)

            def push(tls, base_from_registry="false", build_id="train-and-deploy-iris-x7k2p-build-image", **extra):
                calls = os.path.join(d, f"calls-{tls}-{base_from_registry}-{build_id}")
                env = {
                    **os.environ,
                    "PATH": f"{bindir}:{os.environ['PATH']}",
                    "CALLS": calls,
                    "DIGEST_FILE": os.path.join(d, "digest"),
                    "CONTEXT": d,
                    "AUTH_FILE": os.path.join(d, "auth.json"),
                    "IMAGE_REPOSITORY": "kind-registry:5000/model-server",
                    "COMMIT": "abc1234",
                    "BUILD_ID": build_id,
                    "RESULT_IMAGE": os.path.join(d, "image"),
                    "REGISTRY_TLS": tls,
                    "PLATFORMS": "linux/amd64,linux/arm64",
                    "BASE_FROM_REGISTRY": base_from_registry,
                    **{k.upper(): v for k, v in extra.items()},
                }
                run = subprocess.run(
                    ["sh", os.path.join(TASKS, "build-image", "build-push.sh")], env=env, capture_output=True, text=True
                )
                lines = open(calls).read().splitlines() if os.path.exists(calls) else []
                return run, lines

            image = "kind-registry:5000/model-server:abc1234-train-and-deploy-iris-x7k2p-build-image"
            for tls, verify in (("verify", "true"), ("skip-verify", "false"), ("http", "false")):
                run, (build, push_args) = push(tls)
                self.assertEqual(run.returncode, 0, run.stderr)
                self.assertIn("--tls-verify=true ", build, "a public base image is always verified")
                self.assertIn("--platform linux/amd64,linux/arm64 ", build)
                self.assertIn(f"--manifest {image} ", build)
                self.assertTrue(
                    push_args.startswith(f"--storage-driver vfs manifest push --all --tls-verify={verify} ")
                )
                self.assertTrue(push_args.endswith(f" {image} docker://{image}"), push_args)
                with open(os.path.join(d, "image")) as f:
                    self.assertEqual(f.read(), f"{image}@sha256:" + "0" * 64)
                # The model-server image's base is the step runtime in the same registry: pulled as pushed.
                run, (build, _) = push(tls, "true")
                self.assertEqual(run.returncode, 0, run.stderr)
                self.assertIn(f"--tls-verify={verify} ", build, tls)
            # Another model of the same commit (or a rebuild of it) pushes a tag of its own.
            run, lines = push("verify", build_id="train-and-deploy-iris-b-q9w3z-build-image")
            self.assertEqual(run.returncode, 0, run.stderr)
            other = lines[1]
            self.assertTrue(
                other.endswith(
                    " docker://kind-registry:5000/model-server:abc1234-train-and-deploy-iris-b-q9w3z-build-image"
                ),
                other,
            )
            run, lines = push("verify", build_id="")
            self.assertEqual(run.returncode, 2)
            self.assertIn("BUILD_ID is not set", run.stderr)
            self.assertEqual(lines, [], "nothing built or pushed")
            # A content-addressed tag already in the registry (the step runtime of a recreated stack): not built
            # again; one that is not: built and pushed.
            with open(fake, "a") as f:
                f.write('case "$*" in *"manifest inspect"*) exit "${INSPECT_EXIT:-1}";; esac\n')
            for present, expected in (("0", 1), ("1", 3)):
                os.environ["INSPECT_EXIT"] = present
                try:
                    run, lines = push("verify", build_id=f"skip-{present}", skip_if_present="true")
                finally:
                    del os.environ["INSPECT_EXIT"]
                self.assertEqual(run.returncode, 0, run.stderr)
                self.assertEqual(len(lines), expected, lines)
                self.assertTrue(lines[0].startswith("manifest inspect --tls-verify=true --authfile "), lines[0])
                self.assertTrue(lines[0].endswith(f" docker://kind-registry:5000/model-server:abc1234-skip-{present}"))
                self.assertEqual("already in the registry" in run.stdout, present == "0", run.stdout)
            run, lines = push("insecure")
            self.assertEqual(run.returncode, 2)
            self.assertIn("one of verify, skip-verify, http", run.stderr)
            self.assertEqual(lines, [], "nothing built or pushed")
            run, lines = push("verify", "maybe")
            self.assertEqual(run.returncode, 2)
            self.assertIn("BASE_FROM_REGISTRY=maybe: true or false", run.stderr)


class CheckRuntime(unittest.TestCase):
    """fetch-source's check-runtime.sh: the runtime (here: this interpreter's packages) has the model's pins, or the
    step fails naming every pin it lacks."""

    def run_check(self, text, source_dir="model"):
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "repo", "model"))
            with open(os.path.join(d, "repo", "model", "requirements.txt"), "w") as f:
                f.write(text)
            # The library, then this interpreter's package path (the test's stand-in for the runtime's).
            pythonpath = os.pathsep.join([LIB, os.environ.get("PYTHONPATH", "")])
            # The script runs `python`: the runner (test/python.ts, python-env.sh run) puts this one first on PATH.
            env = {**os.environ, "DEST": d, "SOURCE_DIR": source_dir, "PYTHONPATH": pythonpath}
            return subprocess.run(
                ["sh", os.path.join(TASKS, "fetch-source", "check-runtime.sh")], env=env, capture_output=True, text=True
            )

    def test_pins_the_runtime_has_pass(self):
        dist = next(iter(importlib.metadata.distributions()))
        name, version = dist.metadata["Name"], dist.version
        run = self.run_check(f"# the model's pins\n{name.upper().replace('-', '_')}=={version}  # normalised name\n")
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn("the step runtime has every pinned package", run.stdout)

    def test_every_pin_the_runtime_lacks_is_named_and_nothing_is_installed(self):
        dist = next(iter(importlib.metadata.distributions()))
        run = self.run_check(
            f"{dist.metadata['Name']}==0.0.0.dev0\nno-such-package-xyz==1.0\nscipy>=1\n",
        )
        self.assertEqual(run.returncode, 1)
        self.assertIn(f"{dist.metadata['Name']}==0.0.0.dev0 (the runtime has {dist.version})", run.stderr)
        self.assertIn("no-such-package-xyz==1.0 (not in the runtime)", run.stderr)
        self.assertIn("'scipy>=1' is not an exact pin", run.stderr)
        self.assertIn("run `pulumi up` to build a new runtime", run.stderr)

    def test_a_model_without_requirements_is_refused(self):
        run = self.run_check("x==1\n", source_dir="elsewhere")
        self.assertEqual(run.returncode, 1)
        self.assertIn("no elsewhere/requirements.txt in the source", run.stderr)


class RegistryLogin(unittest.TestCase):
    """`python -m mlops_steps.registry <auth file>`, as the step runtime's build Job runs it."""

    def login(self, *args, **env):
        return subprocess.run(
            [sys.executable, "-m", "mlops_steps.registry", *args],
            env={**os.environ, "PYTHONPATH": LIB, **env},
            capture_output=True,
            text=True,
        )

    def test_writes_the_auth_file_or_refuses(self):
        with tempfile.TemporaryDirectory() as d:
            auth = os.path.join(d, "auth.json")
            run = self.login(auth, REGISTRY_LOGIN="none", IMAGE_REPOSITORY="registry.example:5000/model-server")
            self.assertEqual(run.returncode, 0, run.stderr)
            with open(auth) as f:
                self.assertEqual(json.load(f), {"auths": {}})
            self.assertEqual(os.stat(auth).st_mode & 0o777, 0o600)
            run = self.login(auth, REGISTRY_LOGIN="docker-hub", IMAGE_REPOSITORY="registry.example/x")
            self.assertEqual(run.returncode, 1)
            self.assertIn("REGISTRY_LOGIN 'docker-hub' is not supported", run.stderr)
            self.assertEqual(self.login().returncode, 2)


class Store(unittest.TestCase):
    """The store's pure parts; the adapters' behaviour against real S3 and Blob APIs is test/store-contract.spec.ts."""

    def test_upload_never_writes_into_a_prefix_that_holds_objects(self):
        class MemoryStore:
            """An ObjectStore in memory: what upload_dir lists and writes."""

            scheme, page_size, pages = "mem", None, 0

            def __init__(self) -> None:
                self.data: dict[str, bytes] = {}

            def objects(self, bucket: str, prefix: str) -> Iterator[store.ObjectInfo]:
                when = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
                return iter([store.ObjectInfo(k, when) for k in sorted(self.data) if k.startswith(prefix)])

            def upload_file(self, src: str, bucket: str, key: str) -> None:
                with open(src, "rb") as f:
                    self.data[key] = f.read()

            def download_file(self, bucket: str, key: str, dest: str) -> None:
                raise AssertionError("upload_dir reads nothing back")

            def version(self, bucket: str, key: str) -> str:
                raise AssertionError("upload_dir asks no version")

        mem = MemoryStore()
        with tempfile.TemporaryDirectory() as d:
            open(os.path.join(d, "model.joblib"), "w").write("m")
            self.assertEqual(store.upload_dir(mem, "b", d, "models/iris/v2"), ["models/iris/v2/model.joblib"])
            open(os.path.join(d, "model.joblib"), "w").write("other code")
            open(os.path.join(d, "extra.json"), "w").write("{}")
            with self.assertRaisesRegex(store.StoreError, "mem://b/models/iris/v2/ already exists; model versions"):
                store.upload_dir(mem, "b", d, "models/iris/v2/")
            self.assertEqual(mem.data, {"models/iris/v2/model.joblib": b"m"}, "nothing overwritten, nothing added")
            # A prefix that merely starts the same way is another version: not blocked.
            self.assertEqual(len(store.upload_dir(mem, "b", d, "models/iris/v20/")), 2)
            # Only an explicit immutable=False writes into a prefix that holds objects.
            store.upload_dir(mem, "b", d, "models/iris/v2/", immutable=False)
            self.assertEqual(mem.data["models/iris/v2/model.joblib"], b"other code")

    def test_build_ids_sort_by_time_and_name_the_commit(self):
        self.assertEqual(store.build_id("abc1234def", now=0), "19700101T000000Z-abc1234")
        self.assertEqual(store.build_id("", now=60), "19700101T000100Z")
        self.assertLess(store.build_id("zzz", now=0), store.build_id("aaa", now=1))

    def test_prefix_and_settings(self):
        for bad in ("", "/models/x", "models/*", "models/../x"):
            with self.assertRaises(store.StoreError):
                store.normalise_prefix(bad)
        self.assertEqual(store.bucket_for("models", {"MODELS_BUCKET": "m"}), "m")
        with self.assertRaisesRegex(store.StoreError, "not supported; supported: s3, s3-compatible, azure-blob"):
            store.store_from_env({"STORE_KIND": "gcs"})
        with self.assertRaisesRegex(store.StoreError, "STORE_ENDPOINT is not set"):
            store.store_from_env({"STORE_KIND": "s3-compatible"})

    def test_s3_compatible_requests_are_path_style_at_the_endpoint(self):
        s3 = store.store_from_env(
            {
                "STORE_KIND": "s3-compatible",
                "STORE_ENDPOINT": "http://seaweedfs-s3.object-store:8333",
                "STORE_REGION": "us-east-1",
            }
        )
        self.assertIsInstance(s3, store.S3Store)
        self.assertEqual(s3.client.meta.endpoint_url, "http://seaweedfs-s3.object-store:8333")
        self.assertEqual(s3.client.meta.config.s3, {"addressing_style": "path"})

    def test_blob_adapter_uses_the_pods_workload_identity(self):
        env = {
            "STORE_KIND": "azure-blob",
            "STORE_ENDPOINT": "https://stexample.blob.core.windows.net/",
            "AZURE_TENANT_ID": "87654321-4321-4321-4321-210987654321",
            "AZURE_CLIENT_ID": "00000000-0000-4000-8000-000000000001",
            "AZURE_FEDERATED_TOKEN_FILE": "/var/run/secrets/azure/tokens/azure-identity-token",
        }
        blob = store.store_from_env(env)
        from azure.identity import WorkloadIdentityCredential

        self.assertIsInstance(blob, store.BlobStore)
        self.assertIsInstance(blob.service.credential, WorkloadIdentityCredential)
        self.assertEqual(blob.service.url, "https://stexample.blob.core.windows.net/")
        without = {k: v for k, v in env.items() if k != "AZURE_FEDERATED_TOKEN_FILE"}
        with self.assertRaisesRegex(store.StoreError, "AZURE_FEDERATED_TOKEN_FILE not set"):
            store.store_from_env(without)


class Pushgateway(unittest.TestCase):
    def test_exposition_and_push(self):
        received = []

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self):
                received.append((self.path, self.rfile.read(int(self.headers["Content-Length"])).decode()))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *a):
                pass

        server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.handle_request, daemon=True).start()
        metrics.push(
            f"http://127.0.0.1:{server.server_port}",
            [("model", "iris"), ("version", "v 2")],
            [("lead", {"namespace": "iris-v2", "x": 'a"b'}, 12)],
        )
        server.server_close()
        self.assertEqual(
            received,
            [
                (
                    "/metrics/job/mlops-delivery/model/iris/version/v%202",
                    '# TYPE lead gauge\nlead{namespace="iris-v2",x="a\\"b"} 12.0\n',
                )
            ],
        )

    def test_an_empty_grouping_value_is_base64_encoded(self):
        # A path segment cannot be empty: the Pushgateway reads "<label>@base64/=" as the empty value.
        self.assertEqual(
            metrics.group_url("http://pg:9091/", [("task", ""), ("run", "r 1")]),
            "http://pg:9091/metrics/job/mlops-delivery/task@base64/=/run/r%201",
        )

    def test_metric_names_come_from_the_environment(self):
        self.assertEqual(metrics.metric_name("deployLeadTime", METRIC_ENV), "lead")
        with self.assertRaisesRegex(KeyError, "MLOPS_METRIC_DELIVERY_CPU_SECONDS"):
            metrics.metric_name("deliveryCpuSeconds", {})


class KubeAndPrune(unittest.TestCase):
    def test_rolled_out(self):
        d = {
            "metadata": {"generation": 2},
            "spec": {"replicas": 2},
            "status": {"observedGeneration": 2, "updatedReplicas": 2, "availableReplicas": 2, "replicas": 2},
        }
        self.assertTrue(kube.rolled_out(d))
        self.assertFalse(kube.rolled_out({**d, "status": {**d["status"], "replicas": 3}}))
        self.assertFalse(kube.rolled_out({**d, "status": None}), "a Deployment the controller has not seen yet")

    def test_prune_keeps_newest_finished_per_pipeline(self):
        def run(n, p, t, done=True):
            return {
                "metadata": {"name": n, "labels": {"tekton.dev/pipeline": p}, "creationTimestamp": t},
                "status": {"completionTime": t} if done else {},
            }

        runs = [
            run("a1", "a", "2026-01-01"),
            run("a2", "a", "2026-01-02"),
            run("a3", "a", "2026-01-03"),
            run("a4", "a", "2026-01-04", done=False),
            run("b1", "b", "2026-01-01"),
        ]
        self.assertEqual(prune.to_delete(runs, 2), ["a1"])
        self.assertEqual(prune.to_delete(runs, 1), ["a1", "a2"])


class FetchSource(unittest.TestCase):
    def test_clone_checks_out_the_revision_and_records_the_commit(self):
        with tempfile.TemporaryDirectory() as d:
            repo = os.path.join(d, "origin")

            def git(*a):
                return subprocess.run(
                    ["git", "-C", repo, *a], check=True, capture_output=True, text=True
                ).stdout.strip()

            os.makedirs(repo)
            git("init", "-q", "-b", "main")
            open(os.path.join(repo, "f.txt"), "w").write("x")
            git("add", "f.txt")
            git("-c", "user.email=a@b", "-c", "user.name=n", "commit", "-qm", "c")
            env = {
                **os.environ,
                "GIT_URL": repo,
                "GIT_REVISION": "main",
                "DEST": os.path.join(d, "ws"),
                "RESULT_COMMIT": os.path.join(d, "commit"),
                "RESULT_STARTED_AT": os.path.join(d, "started"),
            }
            subprocess.run(
                ["sh", os.path.join(TASKS, "fetch-source", "clone.sh")], env=env, check=True, capture_output=True
            )
            self.assertEqual(open(env["RESULT_COMMIT"]).read(), git("rev-parse", "HEAD"))
            self.assertTrue(open(env["RESULT_STARTED_AT"]).read().strip().isdigit())
            self.assertTrue(os.path.exists(os.path.join(d, "ws", "repo", "f.txt")))


if __name__ == "__main__":
    unittest.main()
