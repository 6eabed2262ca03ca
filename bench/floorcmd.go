package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/latchid/latch/bench/floor"
)

// floorCommand is the argument that makes the bench binary serve the floor
// in a process of its own, whose CPU time and memory are then the floor's
// alone: bench serve-floor ADDR DATABASE [nosync].
const floorCommand = "serve-floor"

// noSync is serve-floor's last argument for the floor without fsync.
const noSync = "nosync"

func serveFloor(args []string) error {
	if len(args) < 2 || len(args) > 3 || (len(args) == 3 && args[2] != noSync) {
		return fmt.Errorf("usage: %s ADDR DATABASE [%s]", floorCommand, noSync)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := floor.Open(ctx, args[1], len(args) == 2)
	if err != nil {
		return err
	}
	defer s.Close()
	l, err := net.Listen("tcp", args[0])
	if err != nil {
		return err
	}
	return s.Serve(ctx, l)
}

// floorServer is a running floor.
type floorServer struct {
	*child
	base string
}

// startFloor starts the floor with its database in dir; durable false
// starts it without fsync.
func startFloor(ctx context.Context, dir string, durable bool) (*floorServer, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	name, args := "floor", []string{floorCommand, addr, filepath.Join(dir, "floor.db")}
	if !durable {
		name, args = "floor-nosync", append(args, noSync)
	}
	c, err := start(ctx, dir, name, self, args, nil, "http://"+addr+"/health")
	if err != nil {
		return nil, err
	}
	return &floorServer{child: c, base: "http://" + addr}, nil
}

// floorSQLiteVersion is the SQLite version of the floor's (and Latch's)
// driver.
func floorSQLiteVersion(ctx context.Context, tmp string) string {
	dir, err := os.MkdirTemp(tmp, "sqlite-version-")
	if err != nil {
		return "unknown"
	}
	defer os.RemoveAll(dir)
	s, err := floor.Open(ctx, filepath.Join(dir, "v.db"), true)
	if err != nil {
		return "unknown"
	}
	defer s.Close()
	v, err := s.SQLiteVersion(ctx)
	if err != nil {
		return "unknown"
	}
	return v
}
