//go:build tools

// Package tools records the Vault server as a dependency of this tools module so
// that `go mod tidy` keeps its full graph pinned in go.sum.
package tools

import _ "github.com/hashicorp/vault"
