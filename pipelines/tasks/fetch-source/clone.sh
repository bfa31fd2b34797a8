#!/bin/sh
# Clones one revision of the model's source into the source workspace and records its commit and the start time.
# Env: GIT_URL, GIT_REVISION, DEST, RESULT_COMMIT, RESULT_STARTED_AT.
set -eu
date +%s > "$RESULT_STARTED_AT"
rm -rf "$DEST/repo"
mkdir -p "$DEST/repo"
cd "$DEST/repo"
git init -q
git remote add origin "$GIT_URL"
git fetch -q --depth 1 origin "$GIT_REVISION"
git checkout -q FETCH_HEAD
printf '%s' "$(git rev-parse HEAD)" > "$RESULT_COMMIT"
echo "checked out $GIT_URL@$GIT_REVISION = $(cat "$RESULT_COMMIT")"
