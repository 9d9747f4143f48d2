#!/usr/bin/env bash
# Push the image the workflow built and tested (a `docker save` archive) to the CDK bootstrap
# repository of the current account and region, and print `uri=REGISTRY/REPO@sha256:...` to
# $GITHUB_OUTPUT (or stdout), for `make deploy IMAGE_URI=...`.
#
#   scripts/publish_image.sh image.tar.gz
#
# Needs the deploy role's credentials (OIDC): it assumes the bootstrap image-publishing role,
# the one role the bootstrap lets push to that repository. Credentials stay in this process.
set -euo pipefail
archive="$1"
qualifier="${CDK_QUALIFIER:-hnb659fds}"
region="${AWS_REGION:?AWS_REGION is not set}"
account="$(aws sts get-caller-identity --query Account --output text)"
registry="${account}.dkr.ecr.${region}.amazonaws.com"
repository="cdk-${qualifier}-container-assets-${account}-${region}"
source_image="$(docker load --input "$archive" | sed -n 's/^Loaded image: //p' | tail -n 1)"
target="${registry}/${repository}:cruddur-${GITHUB_SHA:-local}"

read -r key secret token < <(aws sts assume-role \
  --role-arn "arn:aws:iam::${account}:role/cdk-${qualifier}-image-publishing-role-${account}-${region}" \
  --role-session-name "publish-${GITHUB_RUN_ID:-local}" \
  --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
export AWS_ACCESS_KEY_ID="$key" AWS_SECRET_ACCESS_KEY="$secret" AWS_SESSION_TOKEN="$token"
aws ecr get-login-password --region "$region" | docker login --username AWS --password-stdin "$registry" >/dev/null
docker tag "$source_image" "$target"
docker push --quiet "$target" >/dev/null
digest="$(docker inspect --format '{{index .RepoDigests 0}}' "$target" | sed 's/.*@//')"
echo "uri=${registry}/${repository}@${digest}" >> "${GITHUB_OUTPUT:-/dev/stdout}"
