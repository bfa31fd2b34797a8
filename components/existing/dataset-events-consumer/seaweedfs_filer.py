"""Existing clusters: reads `weed filer.meta.tail` JSON lines (one SubscribeMetadataResponse per line, from a FIFO
the tail container writes) and forwards each object created in the datasets bucket to the EventListener in the S3
"Object Created" shape.

Env: EVENTS_FIFO (the pipe), BUCKETS_PATH (/buckets), DATASETS_BUCKET (datasets), LISTENER_URL.
"""

import datetime
import json
import os
import time

# The contract's dataset_change_event.py, which the ConfigMap ships beside this script: Python puts the script's
# own directory (the scripts' mount) first on sys.path.
from dataset_change_event import log, object_created, post, rfc3339_seconds

# SeaweedFS's S3 gateway keeps multipart parts under <bucket>/.uploads/ and, in versioned buckets, each version of
# <key> as <key>.versions/v_<version id>.
UPLOADS_DIR = ".uploads"
VERSIONS_SUFFIX = ".versions"


def _content(entry):
    attrs = entry.get("attributes") or {}
    return (attrs.get("md5"), attrs.get("fileSize"), tuple(c.get("fileId") for c in entry.get("chunks") or []))


def object_key(path, bucket_dir):
    """Filer path -> S3 key in the bucket, or None for the gateway's own entries and paths outside the bucket."""
    if not path.startswith(bucket_dir + "/"):
        return None
    parts = path[len(bucket_dir) + 1 :].split("/")
    if not parts[-1] or parts[0] == UPLOADS_DIR:
        return None
    if len(parts) >= 2 and parts[-2].endswith(VERSIONS_SUFFIX) and parts[-1].startswith("v_"):
        parts = parts[:-2] + [parts[-2][: -len(VERSIONS_SUFFIX)]]
    if not parts[-1] or any(p.endswith(VERSIONS_SUFFIX) for p in parts):
        return None
    return "/".join(parts)


def translate(event, buckets_path, bucket):
    """A filer metadata event -> the listener's event, or None unless a file was created under the bucket.

    Created: a new entry that is a file, and either there was no old entry, it moved there (a multipart upload
    completing), or its content changed (an object overwritten). Deletions, directories and attribute-only
    updates are not creations.
    """
    note = event.get("eventNotification") or {}
    new, old = note.get("newEntry"), note.get("oldEntry")
    if not new or new.get("isDirectory"):
        return None
    directory = event.get("directory", "")
    parent = note.get("newParentPath") or directory
    path = f"{parent.rstrip('/')}/{new.get('name', '')}"
    if old:
        old_path = f"{directory.rstrip('/')}/{old.get('name', '')}"
        if old_path == path and _content(old) == _content(new):
            return None
    key = object_key(path, f"{buckets_path.rstrip('/')}/{bucket}")
    if key is None:
        return None
    return object_created(
        bucket,
        key,
        rfc3339_seconds(datetime.datetime.fromtimestamp(int(event["tsNs"]) // 10**9, tz=datetime.UTC)),
    )


def lines(fifo):
    """Lines written to the FIFO, reopening it whenever the writer goes away."""
    try:
        os.mkfifo(fifo)
    except FileExistsError:
        pass
    while True:
        with open(fifo, encoding="utf-8") as f:
            yield from f
        time.sleep(1)


def run(env):
    listener, buckets, bucket = (
        env["LISTENER_URL"],
        env.get("BUCKETS_PATH", "/buckets"),
        env.get("DATASETS_BUCKET", "datasets"),
    )
    for line in lines(env["EVENTS_FIFO"]):
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            event = translate(json.loads(line), buckets, bucket)
        except (ValueError, KeyError) as err:
            log(f"not a filer event: {err}")
            continue
        if event is None:
            continue
        # The tail has no acknowledgement: retry a few times, then log what was lost.
        for attempt in range(5):
            if post(listener, event):
                break
            time.sleep(2**attempt)
        else:
            log(f"lost dataset change {event['detail']['object']['key']}")


if __name__ == "__main__":
    run(os.environ)
