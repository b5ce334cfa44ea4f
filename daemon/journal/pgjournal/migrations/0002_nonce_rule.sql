-- gokms daemon state, schema version 2: the EVM nonce rule of the journal
-- interface is "the lowest nonce at or above the node's pending one that no
-- journaled entry holds and no other live claim reserved". A nonce is held
-- by the entry that journaled it (one entry per sender and nonce, ever, by
-- this index); gokms_nonces keeps only reservations, each tied to the claim
-- (id and token) that made it, so a reservation dies with its claim.
CREATE UNIQUE INDEX gokms_entries_nonce ON gokms_entries (chain, testnet, sender, nonce)
    WHERE nonce IS NOT NULL AND sender <> '';
ALTER TABLE gokms_nonces ADD COLUMN token bigint NOT NULL DEFAULT 0;
DROP INDEX gokms_nonces_free;
DELETE FROM gokms_nonces WHERE pending_id IS NULL OR pending_id IN (SELECT id FROM gokms_entries);
