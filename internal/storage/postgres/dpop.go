package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/latchid/latch/internal/storage"
)

// useDPoPProofSQL records a proof's replay key, or takes over an expired
// record of it, in one statement: a racer blocked on the winner's row
// re-evaluates the WHERE clause on the winner's version, finds it
// unexpired, and changes nothing, so exactly one of concurrent uses of one
// key, on any node, changes a row.
const useDPoPProofSQL = `INSERT INTO dpop_proofs (key, expires) VALUES ($1, $2)
	ON CONFLICT (key) DO UPDATE SET expires = EXCLUDED.expires WHERE dpop_proofs.expires <= $3`

// UseDPoPProof implements storage.Store: fresh when the statement inserted
// or took over a row, not when an unexpired record stood in its way.
func (s *Store) UseDPoPProof(ctx context.Context, key string, now, expires time.Time) (bool, error) {
	if key == "" || len(key) > storage.MaxDPoPProofKeyLength {
		return false, fmt.Errorf("postgres: use DPoP proof: key of %d bytes, want 1 to %d", len(key), storage.MaxDPoPProofKeyLength)
	}
	if expires.IsZero() || now.IsZero() {
		return false, fmt.Errorf("postgres: use DPoP proof: zero time")
	}
	tag, err := s.write(ctx, useDPoPProofSQL, []any{key, ts(expires), ts(now)})
	if err != nil {
		return false, wrapf(err, "use DPoP proof")
	}
	return tag.RowsAffected() == 1, nil
}

// collectDPoPProofs deletes the DPoP proof records that expired before
// the given time.
func (s *Store) collectDPoPProofs(ctx context.Context, before time.Time, out *storage.GCResult) error {
	tag, err := s.exec(ctx, "DELETE FROM dpop_proofs WHERE expires < $1", before.UTC().Truncate(time.Microsecond))
	if err != nil {
		return err
	}
	out.DPoPProofs = tag.RowsAffected()
	return nil
}
