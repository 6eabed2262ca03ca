-- 0006: the OAuth client secret, sealed under the master key.
--
-- The Application API returns an application's client secret to API keys
-- that may read applications, as FusionAuth does, so Latch keeps it sealed
-- (AES-256-GCM, token.Sealer) beside its hash; the hash still
-- authenticates clients. Applications stored before keep their hash and
-- have no sealed secret (NULL): their secret authenticates as before, and
-- the API shows none until a new one is set.

ALTER TABLE applications ADD COLUMN client_secret_sealed bytea;
