package server

import (
	"context"

	"github.com/latchid/latch/internal/storage"
	"github.com/latchid/latch/internal/storage/postgres"
	"github.com/latchid/latch/internal/storage/sqlite"
)

func openPostgres(ctx context.Context, url string) (storage.Store, error) {
	s, err := postgres.Open(ctx, url)
	if err != nil {
		return nil, err // not a typed nil *postgres.Store in the interface
	}
	return s, nil
}

func openSQLite(ctx context.Context, path string) (storage.Store, error) {
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, err // not a typed nil *sqlite.Store in the interface
	}
	return s, nil
}
