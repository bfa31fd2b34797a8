"""Event Grid BlobCreated events (from the Storage Queue) as the listener's dataset-change event.

Run from the consumer's directory with the contract's directory on PYTHONPATH
(`python -m unittest discover -s tests -t .`): the script imports the helper by its own name, as in the pod, where
the ConfigMap ships dataset_change_event.py beside it."""

import base64
import json
import os
import unittest

import event_grid
from dataset_change_sample import expected_event

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.path.join(HERE, "samples")


def sample(name):
    with open(os.path.join(SAMPLES, name)) as f:
        return f.read()


# What S3's sample of the same object carries that the trigger reads: the same for every platform.
EXPECTED = expected_event("datasets")


class EventGrid(unittest.TestCase):
    def event(self):
        return json.loads(sample("event-grid-blob-created.json"))

    def test_blob_created_in_datasets_is_object_created(self):
        self.assertEqual(event_grid.translate(self.event(), "datasets"), EXPECTED)

    def test_queue_message_is_base64_of_the_event(self):
        text = base64.b64encode(sample("event-grid-blob-created.json").encode()).decode()
        self.assertEqual(event_grid.translate(event_grid.decode_message(text), "datasets"), EXPECTED)

    def test_other_types_containers_and_the_container_itself_are_ignored(self):
        deleted = self.event()
        deleted["eventType"] = "Microsoft.Storage.BlobDeleted"
        self.assertIsNone(event_grid.translate(deleted, "datasets"))
        models = self.event()
        models["subject"] = "/blobServices/default/containers/models/blobs/iris/v1/model.pkl"
        self.assertIsNone(event_grid.translate(models, "datasets"))
        similar = self.event()
        similar["subject"] = "/blobServices/default/containers/datasets-old/blobs/iris/a.csv"
        self.assertIsNone(event_grid.translate(similar, "datasets"))
        empty = self.event()
        empty["subject"] = "/blobServices/default/containers/datasets/blobs/"
        self.assertIsNone(event_grid.translate(empty, "datasets"))

    def test_get_messages_xml(self):
        xml = (
            '<?xml version="1.0" encoding="utf-8"?><QueueMessagesList><QueueMessage>'
            "<MessageId>5974b586-0df3-4e2d-ad0c-18e3892bfca2</MessageId>"
            "<InsertionTime>Mon, 23 Nov 2026 09:20:12 GMT</InsertionTime>"
            "<ExpirationTime>Mon, 30 Nov 2026 09:20:12 GMT</ExpirationTime>"
            "<PopReceipt>AgAAAAMAAAAAAAAA+1/2=</PopReceipt>"
            "<TimeNextVisible>Mon, 23 Nov 2026 09:21:12 GMT</TimeNextVisible><DequeueCount>2</DequeueCount>"
            "<MessageText>eyJhIjoxfQ==</MessageText></QueueMessage></QueueMessagesList>"
        )
        self.assertEqual(
            event_grid.parse_messages(xml),
            [
                {
                    "id": "5974b586-0df3-4e2d-ad0c-18e3892bfca2",
                    "pop_receipt": "AgAAAAMAAAAAAAAA+1/2=",
                    "dequeue_count": 2,
                    "text": "eyJhIjoxfQ==",
                }
            ],
        )
        self.assertEqual(event_grid.parse_messages("<QueueMessagesList />"), [])


if __name__ == "__main__":
    unittest.main()
