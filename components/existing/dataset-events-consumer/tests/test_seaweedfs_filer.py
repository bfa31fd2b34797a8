"""SeaweedFS filer metadata events as the listener's dataset-change event.

Run from the consumer's directory with the contract's directory on PYTHONPATH
(`python -m unittest discover -s tests -t .`): the script imports the helper by its own name, as in the pod, where
the ConfigMap ships dataset_change_event.py beside it."""

import copy
import json
import os
import unittest

import seaweedfs_filer as filer
from dataset_change_sample import expected_event

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.path.join(HERE, "samples")


def sample(name):
    with open(os.path.join(SAMPLES, name)) as f:
        return f.read()


# What S3's sample of the same object carries that the trigger reads: the same for every platform.
EXPECTED = expected_event("datasets")


class SeaweedfsFiler(unittest.TestCase):
    def event(self):
        return json.loads(sample("seaweedfs-filer-meta-tail.jsonl").splitlines()[0])

    def test_new_version_of_an_object_is_object_created(self):
        self.assertEqual(filer.translate(self.event(), "/buckets", "datasets"), EXPECTED)

    def test_unversioned_create_and_move_in(self):
        plain = self.event()
        plain["directory"] = plain["eventNotification"]["newParentPath"] = "/buckets/datasets/iris/2026-11-23"
        plain["eventNotification"]["newEntry"]["name"] = "train.csv"
        self.assertEqual(filer.translate(plain, "/buckets", "datasets"), EXPECTED)
        moved = copy.deepcopy(plain)
        moved["directory"] = "/buckets/datasets/.uploads/abc"
        moved["eventNotification"]["oldEntry"] = {**plain["eventNotification"]["newEntry"], "name": "0001_abc.part"}
        self.assertEqual(filer.translate(moved, "/buckets", "datasets"), EXPECTED)

    def test_overwrite_counts_only_when_the_content_changed(self):
        e = self.event()
        new = e["eventNotification"]["newEntry"]
        e["eventNotification"]["oldEntry"] = copy.deepcopy(new)
        self.assertIsNone(filer.translate(e, "/buckets", "datasets"), "attribute-only update")
        e["eventNotification"]["oldEntry"]["attributes"]["md5"] = "b2xkIGNvbnRlbnQgaGFzaA=="
        e["eventNotification"]["oldEntry"]["chunks"][0]["fileId"] = "2,0abc"
        self.assertEqual(filer.translate(e, "/buckets", "datasets"), EXPECTED)

    def test_deletions_directories_uploads_and_other_buckets_are_ignored(self):
        deleted = self.event()
        deleted["eventNotification"] = {"oldEntry": deleted["eventNotification"]["newEntry"]}
        self.assertIsNone(filer.translate(deleted, "/buckets", "datasets"))
        directory = self.event()
        directory["eventNotification"]["newEntry"] = {"name": "2026-11-24", "isDirectory": True}
        self.assertIsNone(filer.translate(directory, "/buckets", "datasets"))
        part = self.event()
        part["directory"] = part["eventNotification"]["newParentPath"] = "/buckets/datasets/.uploads/abc"
        self.assertIsNone(filer.translate(part, "/buckets", "datasets"))
        models = self.event()
        models["directory"] = models["eventNotification"]["newParentPath"] = (
            "/buckets/models/iris/v1/model.pkl.versions"
        )
        self.assertIsNone(filer.translate(models, "/buckets", "datasets"))
        similar = self.event()
        similar["directory"] = similar["eventNotification"]["newParentPath"] = "/buckets/datasets-old/iris"
        self.assertIsNone(filer.translate(similar, "/buckets", "datasets"))

    def test_object_keys(self):
        b = "/buckets/datasets"
        self.assertEqual(filer.object_key(f"{b}/iris/a.csv", b), "iris/a.csv")
        self.assertEqual(filer.object_key(f"{b}/iris/a.csv.versions/v_01", b), "iris/a.csv")
        self.assertIsNone(filer.object_key(f"{b}/iris/a.csv.versions", b))
        self.assertIsNone(filer.object_key(f"{b}/.uploads/x/0001.part", b))
        self.assertIsNone(filer.object_key(f"{b}/iris/", b))
        self.assertIsNone(filer.object_key("/buckets/other/iris/a.csv", b))


if __name__ == "__main__":
    unittest.main()
