-- 0003: the DPoP replay cache shared by every user of the database.
--
-- One row per accepted DPoP proof until its acceptance window closes: the
-- key is the replay key package dpop hands over (a hash of the proof key's
-- thumbprint and the jti; never the proof), expires when the proof could
-- no longer be accepted anyway. An expired row counts as absent and is
-- overwritten by the next use of its key; GarbageCollect deletes the rest.

CREATE TABLE dpop_proofs (
    key     TEXT    PRIMARY KEY,
    expires INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX dpop_proofs_expires ON dpop_proofs (expires);
