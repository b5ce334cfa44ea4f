// Package all builds the registry of every secret backend gokms ships: the
// one place that lists them (as restic's internal/backend/all). Adding a
// backend is its package plus one line here.
package all

import (
	"github.com/gokms/gokms/backend"
	"github.com/gokms/gokms/backend/azure"
	"github.com/gokms/gokms/backend/file"
	"github.com/gokms/gokms/backend/hashivault"
	"github.com/gokms/gokms/backend/memory"
	"github.com/gokms/gokms/backend/vgs"
)

// Drivers returns every backend driver, in help order.
func Drivers() []backend.Driver {
	return []backend.Driver{
		file.Driver(),       // file:// and bare paths: the default encrypted store
		hashivault.Driver(), // vault:// (HTTPS) and vault+http://: HashiCorp Vault KV v2
		azure.Driver(),      // azure://NAME.vault.azure.net: Azure Key Vault secrets
		vgs.Driver(),        // vgs://api.live.verygoodvault.com: VGS aliases + local index
		memory.Driver(),     // memory://: tests and demos
	}
}

// Registry returns a registry of Drivers.
func Registry() *backend.Registry {
	r, err := backend.NewRegistry(Drivers()...)
	if err != nil {
		panic(err) // the list above serves each scheme once; a test keeps it so
	}
	return r
}
