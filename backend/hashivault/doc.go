// Package hashivault keeps gokms records in HashiCorp Vault's KV version 2
// secrets engine, through the official client github.com/hashicorp/vault/api.
// gokms then holds no key material on disk: the CLI and the daemon resolve
// every signatureId through Vault.
//
// # Address
//
//	vault://HOST[:PORT]/MOUNT/PREFIX        HTTPS (the default port is 8200)
//	vault+http://HOST[:PORT]/MOUNT/PREFIX   plain HTTP, for dev servers and a local Vault agent
//	vault:///MOUNT/PREFIX                   no host: the address comes from VAULT_ADDR
//
// MOUNT/PREFIX defaults to secret/gokms. The mount is found the way the Vault
// CLI's kv commands find it (sys/internal/ui/mounts), so nested mounts such
// as kv/team-a/gokms work; if the path is only the mount, the prefix is
// gokms/. The prefix is a folder: records live at MOUNT/data/PREFIX/<id>.
//
// Plain HTTP to a host other than loopback, and VAULT_SKIP_VERIFY, are
// refused on mainnet: the Vault token would be exposed. Set
// GOKMS_VAULT_ALLOW_INSECURE=true to force it.
//
// # Environment
//
// The standard Vault variables are read exactly as the Vault CLI reads them
// (api.DefaultConfig, api.NewClient): VAULT_ADDR, VAULT_TOKEN, VAULT_CACERT,
// VAULT_CAPATH, VAULT_CLIENT_CERT, VAULT_CLIENT_KEY, VAULT_NAMESPACE,
// VAULT_SKIP_VERIFY, VAULT_MAX_RETRIES, VAULT_CLIENT_TIMEOUT, ...; without
// VAULT_TOKEN the CLI's token helper (~/.vault-token after `vault login`) is used.
//
// Logging in (instead of a fixed token) is chosen with GOKMS_VAULT_AUTH:
//
//	token (default)  VAULT_TOKEN or the token helper
//	approle          GOKMS_VAULT_ROLE_ID and GOKMS_VAULT_SECRET_ID_FILE (a file holding the
//	                 secret id; with GOKMS_VAULT_SECRET_ID_WRAPPED=true the file holds a
//	                 response-wrapping token that is unwrapped at login) or GOKMS_VAULT_SECRET_ID
//	kubernetes       GOKMS_VAULT_K8S_ROLE and the service-account JWT at GOKMS_VAULT_K8S_TOKEN_FILE
//	                 (default /var/run/secrets/kubernetes.io/serviceaccount/token)
//
// GOKMS_VAULT_AUTH_MOUNT overrides the auth mount path (default approle or
// kubernetes). Tokens are renewed by the client's LifetimeWatcher; when a
// token cannot be renewed any more, or Vault rejects it as expired or
// revoked, the backend logs in again and retries the request once. A token
// obtained by logging in is revoked on Close. Tokens are never logged.
//
// # Layout
//
// One KV v2 secret per signatureId at PREFIX/<escaped id>. Ids are escaped so
// that every id is one path segment: letters, digits, '-' and '_' stay as
// they are (a Tatum UUID is stored under its own name) and every other byte
// becomes ~XX (upper-case hex), so "a/b" is stored as "a~2Fb".
//
// The secret's data holds the whole record (the secret base64-encoded, so it
// is binary safe, and the non-secret fields). The non-secret fields are
// copied into the secret's custom_metadata, so List reads metadata only.
//
// # Put
//
// A Put writes the data with check-and-set cas=0, so it never overwrites an
// existing signatureId (backend.ErrExists), even when two gokms processes
// store the same id at once: Vault accepts exactly one. It then writes the
// custom_metadata. If that second write fails, the data is removed again
// where Vault allows; if Vault cannot be reached to do so (sealed, down) the
// record stays complete in its data, List still shows it (it falls back to
// reading the data for a record without custom_metadata), and repeating the
// same Put completes it instead of reporting ErrExists.
//
// # List
//
// List runs LIST on MOUNT/metadata/PREFIX and reads each entry's metadata
// (in parallel). There is no index secret: Vault's own key listing is the
// index, so two processes storing at once can never lose each other's
// entries. Entries whose latest version was deleted or destroyed by hand,
// and names that are not escaped ids, are skipped.
//
// # Delete
//
// Delete removes the metadata of the secret, which destroys every version
// permanently (it is not the recoverable soft delete of `vault kv delete`).
// A signatureId that was soft-deleted by hand is reported as not found, and
// cannot be stored again until an operator runs `vault kv metadata delete`.
//
// # Errors
//
// A sealed Vault wraps backend.ErrLocked; an expired or revoked token wraps
// ErrTokenInvalid; a policy refusal wraps ErrPermissionDenied and names the
// path and the capability the policy lacks. A KV version 1 mount is refused
// at Open. No error ever contains a token or a secret.
//
// See docs/vault.md for a minimal policy and an AppRole walk-through.
package hashivault
