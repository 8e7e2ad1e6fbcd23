//go:build tools

// Package tools pins kwok, which keeps fake nodes Ready and makes their pods Running.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
