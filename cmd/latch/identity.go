package main

import (
	"context"
	"errors"

	"github.com/latchid/latch/internal/identity"
	"github.com/latchid/latch/internal/server"
)

// withIdentity opens the configured store and runs fn with an identity
// service over it. The database must have been set up by `latch serve`.
func withIdentity(ctx context.Context, cfg server.Config, fn func(*identity.Service) error) error {
	st, err := server.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	id, err := server.NewIdentity(cfg, st)
	if err != nil {
		return err
	}
	ok, err := id.Initialized(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("the database has not been set up yet: run 'latch serve' once first")
	}
	// A command run with another master key must not, say, add a signing
	// key sealed under it.
	if err := server.CheckMasterKey(ctx, id); err != nil {
		return err
	}
	return fn(id)
}
