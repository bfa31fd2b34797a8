#!/bin/sh
# Builds an image for every platform in PLATFORMS from a context whose Containerfile only COPYs (no RUN, so no
# emulation: the platforms' files are already in the context) into one manifest list, and pushes the list with its
# images. Used by build-image for the model-server image and at install time for the step runtime.
# REGISTRY_TLS (the platform's setting) says how the push reaches the registry: verify (HTTPS, certificate verified),
# skip-verify (HTTPS, certificate not verified) or http (plain HTTP; buildah falls back to it only when verification is
# off). BASE_FROM_REGISTRY=true: the base image is in the same registry (the model-server image on the runtime) and is
# pulled as the push goes, with the auth file; otherwise it is public and pulled with verification.
# Env: CONTEXT, AUTH_FILE, PLATFORMS, IMAGE (or IMAGE_REPOSITORY, COMMIT and BUILD_ID), REGISTRY_TLS,
# BASE_FROM_REGISTRY, DIGEST_FILE, RESULT_IMAGE (optional: where to write the pushed reference with its digest),
# SKIP_IF_PRESENT (true: an image already in the registry under IMAGE is not built again; for content-addressed tags,
# such as the step runtime's, which a recreated stack finds in the repository it kept).
# Without IMAGE the tag is <COMMIT>-<BUILD_ID> (the TaskRun's name): every model of a commit, and every build of the
# same commit (a retrain on new data, a rerun), pushes a tag of its own into the one model-server repository, whose
# tags are immutable on ECR. Deployments use the digest.
set -eu
case "${REGISTRY_TLS:-verify}" in
  verify) tls_verify=true ;;
  skip-verify|http) tls_verify=false ;;
  *) echo "REGISTRY_TLS=$REGISTRY_TLS: one of verify, skip-verify, http" >&2; exit 2 ;;
esac
case "${BASE_FROM_REGISTRY:-false}" in
  true) pull_tls_verify="$tls_verify" ;;
  false) pull_tls_verify=true ;;
  *) echo "BASE_FROM_REGISTRY=$BASE_FROM_REGISTRY: true or false" >&2; exit 2 ;;
esac
if [ -z "${IMAGE:-}" ] && [ -z "${BUILD_ID:-}" ]; then
  echo "BUILD_ID is not set: the tag would be the commit alone, which every model and rebuild of it shares" >&2
  exit 2
fi
image="${IMAGE:-$IMAGE_REPOSITORY:$COMMIT-${BUILD_ID:-}}"
digest_file="${DIGEST_FILE:-/stage/digest}"
if [ "${SKIP_IF_PRESENT:-false}" = true ] &&
  buildah manifest inspect --tls-verify="$tls_verify" --authfile "$AUTH_FILE" "docker://$image" > /dev/null; then
  echo "$image is already in the registry: not built again (its tag is its content)"
  exit 0
fi
buildah --storage-driver vfs build --isolation chroot --layers=false --platform "$PLATFORMS" \
  --tls-verify="$pull_tls_verify" --authfile "$AUTH_FILE" --manifest "$image" -f "$CONTEXT/Containerfile" "$CONTEXT"
buildah --storage-driver vfs manifest push --all --tls-verify="$tls_verify" --authfile "$AUTH_FILE" \
  --digestfile "$digest_file" "$image" "docker://$image"
if [ -n "${RESULT_IMAGE:-}" ]; then
  printf '%s@%s' "$image" "$(cat "$digest_file")" > "$RESULT_IMAGE"
fi
echo "pushed $image@$(cat "$digest_file") for $PLATFORMS"
