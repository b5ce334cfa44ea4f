-- gokms daemon state, schema version 3: the audit trail of every daemon
-- sharing this state, one hash chain (package audit). line is the entry
-- exactly as hashed; seq, at, chain and pending_id repeat what it says, for
-- lookups (gokms audit verify checks that they agree). The head row holds
-- the last entry's seq and hash: appends lock it, so the daemons' entries
-- form one chain, never two, and entries cut from the end are noticed.
CREATE TABLE gokms_audit (
    seq        bigint      PRIMARY KEY CHECK (seq > 0),
    at         timestamptz NOT NULL,
    chain      text        NOT NULL,
    pending_id text        NOT NULL,
    line       text        NOT NULL,
    -- the append that wrote it (a retry after a lost answer finds its own)
    batch      text        NOT NULL
);
CREATE INDEX gokms_audit_at ON gokms_audit (at);
CREATE INDEX gokms_audit_pending ON gokms_audit (pending_id);
CREATE INDEX gokms_audit_batch ON gokms_audit (batch);

CREATE TABLE gokms_audit_head (
    one  boolean PRIMARY KEY DEFAULT true CHECK (one),
    seq  bigint  NOT NULL,
    hash text    NOT NULL
);
INSERT INTO gokms_audit_head (one, seq, hash) VALUES (true, 0, '');
