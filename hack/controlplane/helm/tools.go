//go:build tools

// Package tools pins the helm CLI that Helm delivery runs (`helm template`).
package tools

import _ "helm.sh/helm/v3/cmd/helm"
