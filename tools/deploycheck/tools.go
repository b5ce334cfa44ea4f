//go:build tools

// Package tools pins the Helm release scripts/deploy-tools.sh builds to lint
// and render deploy/helm/gokms in the tests (helm lint --strict, helm
// template). A module of its own so Helm's, BuildKit's and compose-go's
// dependencies never enter gokms's.
package tools

import _ "helm.sh/helm/v3/cmd/helm"
