"""The listener's dataset-change event as every consumer builds it (contract/dataset_change_event.py). Run from the
contract's directory (`python -m unittest discover -s tests -t .`), which is the top level."""

import unittest

import dataset_change_event as event


class ObjectCreated(unittest.TestCase):
    def test_the_fields_the_dataset_trigger_reads(self):
        self.assertEqual(
            event.object_created("datasets", "iris/2026-11-23/train.csv", "2026-11-23T09:20:11Z"),
            {
                "source": "aws.s3",
                "detail-type": "Object Created",
                "time": "2026-11-23T09:20:11Z",
                "detail": {"bucket": {"name": "datasets"}, "object": {"key": "iris/2026-11-23/train.csv"}},
            },
        )


class Times(unittest.TestCase):
    def test_any_fraction_and_offset_to_utc_seconds(self):
        self.assertEqual(event.rfc3339_seconds("2026-11-23T09:20:11.4587463Z"), "2026-11-23T09:20:11Z")
        self.assertEqual(event.rfc3339_seconds("2026-11-23T10:20:11+01:00"), "2026-11-23T09:20:11Z")
        self.assertEqual(event.rfc3339_seconds("2026-11-23T09:20:11Z"), "2026-11-23T09:20:11Z")
        with self.assertRaises(ValueError):
            event.rfc3339_seconds("23/11/2026")


if __name__ == "__main__":
    unittest.main()
