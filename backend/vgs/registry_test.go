package vgs_test

import (
	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/vgs"
)

// registry opens addresses the way the binary does, with this driver only.
var registry = func() *backend.Registry {
	r, err := backend.NewRegistry(vgs.Driver())
	if err != nil {
		panic(err)
	}
	return r
}()
