package main

// Secret backends, imported for effect: each registers its address scheme
// with backend.Register in init(). One line per backend.
import (
	_ "github.com/gokms/gokms/backend/azure"      // azure://NAME.vault.azure.net: Azure Key Vault secrets
	_ "github.com/gokms/gokms/backend/file"       // file:// and bare paths: the default encrypted store
	_ "github.com/gokms/gokms/backend/hashivault" // vault:// (HTTPS) and vault+http://: HashiCorp Vault KV v2
	_ "github.com/gokms/gokms/backend/vgs"        // vgs://api.live.verygoodvault.com: VGS aliases + local index
)
