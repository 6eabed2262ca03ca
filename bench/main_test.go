package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr bool
		check   func(t *testing.T, c config)
	}{
		{name: "defaults", check: func(t *testing.T, c config) {
			if !slices.Equal(c.concurrencies, []int{1, 8, 32, 64, 200}) || c.rounds != 3 || c.duration != 5*time.Second {
				t.Errorf("defaults: %+v", c)
			}
			if !slices.Equal(c.servers, []string{"hydra", "floor", "floor-nosync", "latch"}) || !slices.Equal(c.modes, []string{"compare"}) {
				t.Errorf("defaults: servers %v, modes %v", c.servers, c.modes)
			}
		}},
		{name: "lists sorted and deduplicated", args: []string{"-c", "8, 1,8", "-sessions", "100,10"}, check: func(t *testing.T, c config) {
			if !slices.Equal(c.concurrencies, []int{1, 8}) || !slices.Equal(c.sessions, []int{10, 100}) {
				t.Errorf("got %v and %v", c.concurrencies, c.sessions)
			}
		}},
		{name: "all modes", args: []string{"-mode", "all"}, check: func(t *testing.T, c config) {
			if !slices.Equal(c.modes, []string{"compare", "state", "postgres"}) {
				t.Errorf("modes %v", c.modes)
			}
		}},
		{name: "unknown server", args: []string{"-servers", "keycloak"}, wantErr: true},
		{name: "unknown mode", args: []string{"-mode", "fast"}, wantErr: true},
		{name: "zero concurrency", args: []string{"-c", "0"}, wantErr: true},
		{name: "empty concurrency", args: []string{"-c", ","}, wantErr: true},
		{name: "no rounds", args: []string{"-rounds", "0"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseFlags(tt.args)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseFlags(%q): error %v, want error %v", tt.args, err, tt.wantErr)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

func TestStatusErrorRetryAfter(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3")
		http.Error(w, `{"generalErrors":[]}`, http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	err := postJSON(t.Context(), srv.Client(), srv.URL+"/api/login", map[string]string{}, nil)
	var se *statusError
	if !errors.As(err, &se) || se.code != http.StatusServiceUnavailable || se.retryAfter != 3*time.Second {
		t.Fatalf("err = %#v, want a 503 with Retry-After 3s", err)
	}
	// The wait ends with the window.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	if got := backOff(ctx, err); got != err {
		t.Errorf("backOff returned %v, want the error it was given", got)
	}
	if ctx.Err() == nil {
		t.Errorf("backOff returned before its context ended")
	}
}
