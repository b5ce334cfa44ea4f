// Package tatum is the client of the Tatum API endpoints a KMS uses, wire
// compatible with tatum-kms 8.0.1: it knows HTTP and JSON, never keys.
//
// # Endpoints
//
//	POST   /v3/kms/pending/{chain}           {"signatureIds": [...]}   Pending
//	GET    /v3/kms/{id}                                                Get, GetJSON
//	DELETE /v3/kms/{id}?revert=true                                    Delete, DeleteRevert
//	PUT    /v3/kms/{id}/{txId}                                         Complete
//	POST   /v3/{chain path}/broadcast        {"txData", "signatureId"} Broadcast
//	POST   /v3/offchain/withdrawal/broadcast {"currency", "withdrawalId", "signatureId", "txData"}
//	POST   /v3/tatum/kms/batch               {"errors": [{"signatureId", "error"}]}
//
// Every request carries x-api-key and x-ttm-kms-client-version. When a
// response carries x-ttm-kms-latest-version ("<version>;<level>;<message>")
// naming a version newer than the client's, an upgrade notice is logged (at
// ERROR level if <level> is ERROR, else WARN), at most once every 30 s.
//
// # Timeouts and retries
//
// Every attempt is bounded by Options.Timeout. These failures are retried,
// at most Options.Retries times, after an exponential, jittered backoff
// (MinBackoff doubling up to MaxBackoff):
//
//   - 429 Too Many Requests, for every call: the server refused the request
//     without acting on it. Its Retry-After is honoured (never waiting less);
//     one longer than MaxRetryAfter, or past the context's deadline, fails
//     the call at once.
//   - 5xx answers, timeouts, connection resets and other transport errors,
//     for the idempotent calls: Pending (a read despite its POST), Get,
//     Delete, Complete and ReportErrors (a repeat can at worst duplicate a
//     failure notification). A retried Delete whose earlier attempt went
//     through and then got 403 kms.missing counts as done.
//   - any transport error that provably happened before the request left
//     this process (refused connection, DNS failure: nothing was written),
//     for every call.
//
// Other 4xx answers are final and returned as *APIError. A 2xx answer whose
// body is not the expected JSON is an error that names the call and shows
// the first bytes of the body; it is not retried (the server did act).
//
// # Broadcasts are never blindly repeated
//
// Broadcast and BroadcastWithdrawal are not idempotent: sending a
// transaction whose first send succeeded would at best waste a call and at
// worst, on an account-based chain with a re-signed nonce, spend twice. After
// a failure that happened once the request may have reached Tatum (a timeout
// or connection reset after it was written, a 5xx, a 2xx without a readable
// txId) the client does not resend. It asks GET /v3/kms/{id} instead:
//
//   - the pending transaction shows a txId: Tatum broadcast it, and that txId
//     is returned as success (Completed true);
//   - no txId, or the GET fails too: the outcome is unknown and the error
//     wraps ErrAmbiguous (and the cause). The caller must not broadcast again
//     now; the transaction stays pending in Tatum and is picked up by a later
//     poll, when the truth is known.
//
// Only failures that prove the request never reached the server, and 429,
// are retried for broadcasts. Other 4xx answers (for example 403
// bitcoin.broadcast.failed, the node refusing the transaction) are final.
//
// # What is never logged
//
// The API key is never logged nor part of an error (Tatum echoes it in some
// error messages; APIError redacts it). Request and response bodies, which
// hold txData and signatureIds, are not logged; calls are logged at DEBUG
// with method, path and status, retries at WARN.
package tatum
