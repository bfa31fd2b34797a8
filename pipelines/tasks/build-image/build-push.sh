#!/bin/sh
# Builds the model-server image from the prepared context and pushes it, tagged with the source commit; writes
# the pushed reference with its digest. REGISTRY_TLS (the platform's setting) says how the push reaches the registry:
# verify (HTTPS, certificate verified), skip-verify (HTTPS, certificate not verified) or http (plain HTTP; buildah
# falls back to it only when verification is off). The base image is always pulled with verification.
# Env: CONTEXT, AUTH_FILE, IMAGE_REPOSITORY, COMMIT, RESULT_IMAGE, REGISTRY_TLS, DIGEST_FILE.
set -eu
case "${REGISTRY_TLS:-verify}" in
  verify) tls_verify=true ;;
  skip-verify|http) tls_verify=false ;;
  *) echo "REGISTRY_TLS=$REGISTRY_TLS: one of verify, skip-verify, http" >&2; exit 2 ;;
esac
image="$IMAGE_REPOSITORY:$COMMIT"
digest_file="${DIGEST_FILE:-/stage/digest}"
buildah --storage-driver vfs build --isolation chroot --layers=false -f "$CONTEXT/Containerfile" -t "$image" "$CONTEXT"
buildah --storage-driver vfs push --tls-verify="$tls_verify" --authfile "$AUTH_FILE" --digestfile "$digest_file" "$image" "docker://$image"
printf '%s@%s' "$image" "$(cat "$digest_file")" > "$RESULT_IMAGE"
echo "pushed $(cat "$RESULT_IMAGE")"
