// Package deploy holds what operators install gokms with, and the tests
// that check it: systemd/ (the hardened daemon unit), helm/gokms (the
// Kubernetes chart); the Dockerfile, compose.yaml and scripts/release.sh at
// the repository root are tested here too. It has no Go API.
package deploy
