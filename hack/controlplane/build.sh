#!/usr/bin/env bash
# Builds the local control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# kwok) and helm from pinned Go module versions into a cache outside the repository.
#
# Contract: prints the binary directory as its last line. The directory name is a hash of every
# input (versions.env, each module's go.mod/go.sum, the Go version), so a fresh clone on the same
# machine reuses a finished build and a version bump builds into a new directory. Binaries are
# written under a temporary name and renamed, so an interrupted build never leaves a half binary
# that a later run would mistake for a finished one.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"

key=$( { cat "$here/versions.env"; for m in kubernetes etcd kwok helm crds; do cat "$here/$m/go.mod" "$here/$m/go.sum"; done; go version; } | sha256sum | cut -c1-16)
out="${KUBEOP_CONTROLPLANE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubeop/controlplane}/$key"
# KUBEOP_CONTROLPLANE_NO_BUILD=1: use a finished build or fail at once (exit 3), never build.
if [ "${KUBEOP_CONTROLPLANE_NO_BUILD:-}" = 1 ]; then
  for f in etcd kube-apiserver kube-controller-manager kube-scheduler kwok helm crds/.done kwok-stages/.done kwok-crds/.done; do
    if [ ! -e "$out/$f" ]; then
      echo "controlplane: $f is not built in $out; run: bash hack/controlplane/build.sh" >&2
      exit 3
    fi
  done
  echo "$out"
  exit 0
fi
mkdir -p "$out"
# One build at a time per cache directory: the integration suites (helm) and the e2e setup may call
# this script concurrently, and two builds would race on the same temporary binaries.
exec 9>"$out/.lock"
flock 9

export CGO_ENABLED=0 GOFLAGS=-mod=mod
build_date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
k8s_minor=${KUBERNETES_VERSION#v1.}; k8s_minor=${k8s_minor%%.*}
k8s_ldflags="-s -w \
 -X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION \
 -X k8s.io/component-base/version.gitMajor=1 \
 -X k8s.io/component-base/version.gitMinor=$k8s_minor \
 -X k8s.io/component-base/version.gitTreeState=clean \
 -X k8s.io/component-base/version.buildDate=$build_date \
 -X k8s.io/client-go/pkg/version.gitVersion=$KUBERNETES_VERSION \
 -X k8s.io/client-go/pkg/version.gitMajor=1 \
 -X k8s.io/client-go/pkg/version.gitMinor=$k8s_minor"

# build <module dir> <binary name> <package> [ldflags]
build() {
  local dir=$1 name=$2 pkg=$3 ldflags=${4:--s -w}
  if [ -x "$out/$name" ]; then echo "controlplane: $name cached" >&2; return; fi
  echo "controlplane: building $name ($pkg)" >&2
  local start=$SECONDS
  (cd "$here/$dir" && go build -trimpath -ldflags "$ldflags" -o "$out/.$name.tmp" "$pkg")
  mv "$out/.$name.tmp" "$out/$name"
  echo "controlplane: built $name in $((SECONDS - start))s" >&2
}

build etcd etcd .
build kubernetes kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$k8s_ldflags"
build kubernetes kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager "$k8s_ldflags"
build kubernetes kube-scheduler k8s.io/kubernetes/cmd/kube-scheduler "$k8s_ldflags"
build kwok kwok sigs.k8s.io/kwok/cmd/kwok "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION"
build helm helm helm.sh/helm/v3/cmd/helm "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"

# Third-party CRDs, copied from the pinned modules' own published YAML.
if [ ! -f "$out/crds/.done" ]; then
  # `go list -m` reports a module's directory only once it is in the module cache: fetch first.
  (cd "$here/crds" && go mod download github.com/cert-manager/cert-manager sigs.k8s.io/gateway-api)
  mods=$(cd "$here/crds" && go list -m -f '{{.Path}} {{.Dir}}' github.com/cert-manager/cert-manager sigs.k8s.io/gateway-api)
  cm_dir=$(printf '%s\n' "$mods" | awk '$1=="github.com/cert-manager/cert-manager"{print $2}')
  gw_dir=$(printf '%s\n' "$mods" | awk '$1=="sigs.k8s.io/gateway-api"{print $2}')
  rm -rf "$out/crds" && mkdir -p "$out/crds"
  for f in certificates issuers clusterissuers certificaterequests; do
    cp "$cm_dir/deploy/crds/cert-manager.io_$f.yaml" "$out/crds/"
  done
  for f in gatewayclasses gateways httproutes referencegrants; do
    cp "$gw_dir/config/crd/standard/gateway.networking.k8s.io_$f.yaml" "$out/crds/"
  done
  chmod u+w "$out/crds"/*.yaml
  touch "$out/crds/.done"
fi
# kwok's stages (what fake nodes and pods do), from the pinned kwok module's own published YAML:
# nodes initialise and keep a lease, pods become Running and Ready, deletions complete.
if [ ! -f "$out/kwok-stages/.done" ]; then
  (cd "$here/kwok" && go mod download sigs.k8s.io/kwok)
  kwok_dir=$(cd "$here/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
  rm -rf "$out/kwok-stages" && mkdir -p "$out/kwok-stages"
  cp "$kwok_dir/kustomize/stage/node/fast/node-initialize.yaml" \
     "$kwok_dir/kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml" \
     "$kwok_dir/kustomize/stage/pod/fast/pod-ready.yaml" \
     "$kwok_dir/kustomize/stage/pod/fast/pod-complete.yaml" \
     "$kwok_dir/kustomize/stage/pod/fast/pod-delete.yaml" "$out/kwok-stages/"
  chmod u+w "$out/kwok-stages"/*.yaml
  touch "$out/kwok-stages/.done"
fi
# kwok's own CRDs for what its kubelet endpoint serves: container logs and exec, configured per
# test through Logs/ClusterLogs and Exec/ClusterExec objects (kubectl logs / exec in the e2e cluster).
if [ ! -f "$out/kwok-crds/.done" ]; then
  (cd "$here/kwok" && go mod download sigs.k8s.io/kwok)
  kwok_dir=$(cd "$here/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
  rm -rf "$out/kwok-crds" && mkdir -p "$out/kwok-crds"
  for f in logs clusterlogs execs clusterexecs; do
    cp "$kwok_dir/kustomize/crd/bases/kwok.x-k8s.io_$f.yaml" "$out/kwok-crds/"
  done
  chmod u+w "$out/kwok-crds"/*.yaml
  touch "$out/kwok-crds/.done"
fi
echo "$out"
