package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/latchid/latch/internal/storage"
)

// useDPoPProofSQL records a proof's replay key, or takes over an expired
// record of it: one statement, run on the one write connection, so that
// of concurrent uses of one key exactly one changes a row.
const useDPoPProofSQL = `INSERT INTO dpop_proofs (key, expires) VALUES (?1, ?2)
	ON CONFLICT (key) DO UPDATE SET expires = excluded.expires WHERE dpop_proofs.expires <= ?3`

// UseDPoPProof implements storage.Store: fresh when the statement inserted
// or took over a row, not when an unexpired record stood in its way.
func (s *Store) UseDPoPProof(ctx context.Context, key string, now, expires time.Time) (bool, error) {
	if key == "" || len(key) > storage.MaxDPoPProofKeyLength {
		return false, fmt.Errorf("sqlite: use DPoP proof: key of %d bytes, want 1 to %d", len(key), storage.MaxDPoPProofKeyLength)
	}
	if expires.IsZero() || now.IsZero() {
		return false, fmt.Errorf("sqlite: use DPoP proof: zero time")
	}
	res, err := s.w().ExecContext(ctx, useDPoPProofSQL, key, expires.UnixMicro(), now.UnixMicro())
	if err != nil {
		return false, wrapf(err, "use DPoP proof")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, wrapf(err, "use DPoP proof")
	}
	return n == 1, nil
}

// collectDPoPProofs deletes the DPoP proof records that expired before b.
func collectDPoPProofs(ctx context.Context, q querier, b int64, out *storage.GCResult) error {
	res, err := q.ExecContext(ctx, "DELETE FROM dpop_proofs WHERE expires < ?", b)
	if err != nil {
		return err
	}
	out.DPoPProofs, err = res.RowsAffected()
	return err
}
