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
// alone: bench serve-floor ADDR DATABASE.
const floorCommand = "serve-floor"

func serveFloor(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: %s ADDR DATABASE", floorCommand)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := floor.Open(ctx, args[1])
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

func startFloor(ctx context.Context, dir string) (*floorServer, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	c, err := start(ctx, dir, "floor", self, []string{floorCommand, addr, filepath.Join(dir, "floor.db")}, nil,
		"http://"+addr+"/health")
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
	s, err := floor.Open(ctx, filepath.Join(dir, "v.db"))
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
