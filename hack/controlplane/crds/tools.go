//go:build tools

// Package tools pins the modules whose published CRD YAML the test cluster installs
// (cert-manager and Gateway API); the YAML is read from the module cache, never copied by hand.
package tools

import (
	_ "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	_ "sigs.k8s.io/gateway-api/apis/v1"
)
