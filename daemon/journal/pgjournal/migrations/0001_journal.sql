-- gokms daemon state, schema version 1: the journal of signed pending
-- transactions, the claims (leases with fencing tokens) that let several
-- daemons share one queue, EVM nonce allocation, and policy counters.
-- Applied by pgjournal.Migrate (at daemon start, or `gokms state migrate`)
-- in one transaction under an advisory lock.

-- One row per pending id ever claimed. token grows with every claim; a
-- write carrying an older token is fenced off. Lease times are the
-- database's clock, never a daemon's.
CREATE TABLE gokms_claims (
    id         text        PRIMARY KEY,
    owner      text        NOT NULL,
    token      bigint      NOT NULL,
    expires_at timestamptz NOT NULL,
    released   boolean     NOT NULL DEFAULT false,
    -- the last claim took the id over from another owner's expired lease
    took_over  boolean     NOT NULL DEFAULT false,
    claimed_at timestamptz NOT NULL
);

-- One row per pending id ever signed: the bytes are written here before
-- they are broadcast, and the row is never replaced (only forgotten by an
-- operator), so an id is signed at most once.
CREATE TABLE gokms_entries (
    id            text        PRIMARY KEY,
    chain         text        NOT NULL,
    testnet       boolean     NOT NULL,
    signature_ids text[]      NOT NULL DEFAULT '{}',
    withdrawal_id text        NOT NULL DEFAULT '',
    signed_tx     text        NOT NULL,
    tx_id         text        NOT NULL DEFAULT '',
    sender        text        NOT NULL DEFAULT '',
    nonce         bigint      CHECK (nonce >= 0),
    state         text        NOT NULL CHECK (state IN ('signed', 'broadcast', 'completed')),
    broadcasts    integer     NOT NULL DEFAULT 0,
    last_error    text        NOT NULL DEFAULT '',
    owner         text        NOT NULL DEFAULT '',
    recorded_at   timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    completed_at  timestamptz
);
CREATE INDEX gokms_entries_recorded ON gokms_entries (recorded_at, id);
CREATE INDEX gokms_entries_open ON gokms_entries (recorded_at, id) WHERE state <> 'completed';

-- Account sequences (EVM): next is one past the highest nonce handed out.
CREATE TABLE gokms_nonce_seqs (
    chain   text    NOT NULL,
    testnet boolean NOT NULL,
    sender  text    NOT NULL,
    next    bigint  NOT NULL CHECK (next >= 0),
    PRIMARY KEY (chain, testnet, sender)
);

-- Nonces handed out; pending_id is NULL once freed (the transaction was
-- refused or failed before it was recorded), so the nonce is reused first.
CREATE TABLE gokms_nonces (
    chain      text    NOT NULL,
    testnet    boolean NOT NULL,
    sender     text    NOT NULL,
    nonce      bigint  NOT NULL CHECK (nonce >= 0),
    pending_id text,
    PRIMARY KEY (chain, testnet, sender, nonce)
);
CREATE UNIQUE INDEX gokms_nonces_by_id ON gokms_nonces (pending_id, chain, testnet, sender) WHERE pending_id IS NOT NULL;
CREATE INDEX gokms_nonces_free ON gokms_nonces (chain, testnet, sender, nonce) WHERE pending_id IS NULL;

-- Rolling totals for signing policy: an amount counts once per (key, ref).
CREATE TABLE gokms_counters (
    key    text        NOT NULL,
    ref    text        NOT NULL,
    at     timestamptz NOT NULL,
    amount numeric     NOT NULL,
    PRIMARY KEY (key, ref)
);
CREATE INDEX gokms_counters_at ON gokms_counters (key, at);
