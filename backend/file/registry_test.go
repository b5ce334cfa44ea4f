package file

import "github.com/gokms/gokms/backend"

// registry opens addresses the way the binary does, with this driver only.
var registry = func() *backend.Registry {
	r, err := backend.NewRegistry(Driver())
	if err != nil {
		panic(err)
	}
	return r
}()
