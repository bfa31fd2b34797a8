"""Azure: reads the datasets container's BlobCreated events (Event Grid -> Storage Queue) and forwards each to the
EventListener in the S3 "Object Created" shape. Authenticates with AKS workload identity: the federated token
file is exchanged with Entra ID for a Storage token; the identity may only process messages of that one queue.

Env: QUEUE_URL (https://<account>.queue.core.windows.net/<queue>), LISTENER_URL, and what the workload-identity
webhook injects (AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE, AZURE_AUTHORITY_HOST).
"""

import base64
import json
import os
import time
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

# The contract's dataset_change_event.py, which the ConfigMap ships beside this script: Python puts the script's
# own directory (the scripts' mount) first on sys.path.
from dataset_change_event import log, object_created, post, rfc3339_seconds

BLOB_CREATED = "Microsoft.Storage.BlobCreated"
STORAGE_SCOPE = "https://storage.azure.com/.default"
QUEUE_API_VERSION = "2021-08-06"
# A message the listener refused this many times is dropped (logged): Event Grid already delivered it.
MAX_DEQUEUE = 5
VISIBILITY_SECONDS = 60
IDLE_SECONDS = 5


def translate(event, container):
    """An Event Grid BlobCreated event -> the listener's event, or None when it is not a blob created in `container`.

    The subject is /blobServices/default/containers/<container>/blobs/<blob name>; the blob name is the key.
    """
    if event.get("eventType") != BLOB_CREATED:
        return None
    prefix = f"/blobServices/default/containers/{container}/blobs/"
    subject = event.get("subject", "")
    if not subject.startswith(prefix) or subject == prefix:
        return None
    return object_created(container, subject[len(prefix) :], rfc3339_seconds(event["eventTime"]))


def decode_message(text):
    """A queue message's text (Event Grid writes the event JSON base64-encoded) -> the event."""
    return json.loads(base64.b64decode(text).decode("utf-8"))


def parse_messages(xml_text):
    """Get Messages' XML -> [{id, pop_receipt, dequeue_count, text}]."""
    root = ET.fromstring(xml_text)
    return [
        {
            "id": m.findtext("MessageId"),
            "pop_receipt": m.findtext("PopReceipt"),
            "dequeue_count": int(m.findtext("DequeueCount") or "0"),
            "text": m.findtext("MessageText") or "",
        }
        for m in root.findall("QueueMessage")
    ]


class Token:
    def __init__(self, env):
        self.env = env
        self.value, self.expires = None, 0.0

    def get(self):
        if self.value and time.time() < self.expires - 300:
            return self.value
        env = self.env
        with open(env["AZURE_FEDERATED_TOKEN_FILE"]) as f:
            assertion = f.read().strip()
        authority = env.get("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.com/").rstrip("/")
        body = urllib.parse.urlencode(
            {
                "client_id": env["AZURE_CLIENT_ID"],
                "grant_type": "client_credentials",
                "scope": STORAGE_SCOPE,
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion,
            }
        ).encode()
        req = urllib.request.Request(
            f"{authority}/{env['AZURE_TENANT_ID']}/oauth2/v2.0/token", data=body, method="POST"
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            data = json.load(resp)
        self.value, self.expires = data["access_token"], time.time() + int(data.get("expires_in", 3600))
        return self.value


def queue_request(token, method, url):
    req = urllib.request.Request(
        url, method=method, headers={"Authorization": f"Bearer {token.get()}", "x-ms-version": QUEUE_API_VERSION}
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.read().decode("utf-8")


def run(env):
    queue, listener, container = (
        env["QUEUE_URL"].rstrip("/"),
        env["LISTENER_URL"],
        env.get("DATASETS_CONTAINER", "datasets"),
    )
    token = Token(env)
    while True:
        try:
            messages = parse_messages(
                queue_request(token, "GET", f"{queue}/messages?numofmessages=1&visibilitytimeout={VISIBILITY_SECONDS}")
            )
        except OSError as err:
            log(f"queue read failed: {err}")
            time.sleep(IDLE_SECONDS)
            continue
        if not messages:
            time.sleep(IDLE_SECONDS)
            continue
        for m in messages:
            try:
                event = translate(decode_message(m["text"]), container)
            except (ValueError, KeyError) as err:
                log(f"message {m['id']} is not an Event Grid event: {err}")
                event = None
            done = event is None or post(listener, event)
            if not done and m["dequeue_count"] >= MAX_DEQUEUE:
                log(f"dropping message {m['id']} after {m['dequeue_count']} attempts")
                done = True
            if done:
                receipt = urllib.parse.quote(m["pop_receipt"], safe="")
                try:
                    queue_request(token, "DELETE", f"{queue}/messages/{m['id']}?popreceipt={receipt}")
                except OSError as err:
                    log(f"delete of {m['id']} failed (it comes back): {err}")


if __name__ == "__main__":
    run(os.environ)
