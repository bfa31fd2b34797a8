#!/bin/sh
# Builds the model-server image from the prepared context and pushes it, tagged with the source commit; writes
# the pushed reference with its digest. Env: CONTEXT, AUTH_FILE, IMAGE_REPOSITORY, COMMIT, RESULT_IMAGE.
set -eu
image="$IMAGE_REPOSITORY:$COMMIT"
buildah --storage-driver vfs build --isolation chroot --layers=false -f "$CONTEXT/Containerfile" -t "$image" "$CONTEXT"
buildah --storage-driver vfs push --authfile "$AUTH_FILE" --digestfile /stage/digest "$image" "docker://$image"
printf '%s@%s' "$image" "$(cat /stage/digest)" > "$RESULT_IMAGE"
echo "pushed $(cat "$RESULT_IMAGE")"
