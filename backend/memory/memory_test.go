package memory_test

import (
	"testing"

	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/backendtest"
	"github.com/gokms/gokms/backend/memory"
)

func TestConformance(t *testing.T) {
	backendtest.Run(t, func(*testing.T) backend.SecretBackend { return memory.New() })
}
