#!/usr/bin/env bash
# Builds cosign from its pinned Go module version into a cache outside the repository (as
# hack/controlplane/build.sh does for the control plane), for signing and verifying release
# artifacts offline (test/integration/repo/release-signing.test.ts, scripts/release-artifacts.ts).
#
# Contract: prints the directory holding the `cosign` binary as its last line. The directory name is
# a hash of the pinned version and the Go version, so a fresh clone on the same machine reuses a
# finished build. The binary is written under a temporary directory and renamed, so an interrupted
# build never leaves a half binary. One build at a time per cache directory (a lock).
# KUBEOP_COSIGN_NO_BUILD=1: use a finished build or fail at once (exit 3), never build.
set -euo pipefail
COSIGN_VERSION=v2.6.5
key=$( { echo "cosign $COSIGN_VERSION"; go version; } | sha256sum | cut -c1-16)
out="${KUBEOP_COSIGN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubeop/cosign}/$key"
if [ -x "$out/cosign" ]; then echo "$out"; exit 0; fi
if [ "${KUBEOP_COSIGN_NO_BUILD:-}" = 1 ]; then
  echo "cosign: not built in $out; run: bash hack/cosign/build.sh" >&2
  exit 3
fi
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9
if [ ! -x "$out/cosign" ]; then
  echo "cosign: building github.com/sigstore/cosign/v2/cmd/cosign@$COSIGN_VERSION" >&2
  start=$SECONDS
  tmp=$(mktemp -d "$out/.build.XXXXXX")
  CGO_ENABLED=0 GOBIN="$tmp" go install -trimpath \
    -ldflags "-s -w -X sigs.k8s.io/release-utils/version.gitVersion=$COSIGN_VERSION" \
    "github.com/sigstore/cosign/v2/cmd/cosign@$COSIGN_VERSION"
  mv "$tmp/cosign" "$out/cosign"
  rmdir "$tmp"
  echo "cosign: built in $((SECONDS - start))s" >&2
fi
echo "$out"
