package demo

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

func TestHuman(t *testing.T) {
	for d, want := range map[time.Duration]string{
		5 * time.Minute:                        "5m",
		30 * time.Second:                       "30s",
		time.Hour:                              "1h",
		time.Hour + time.Minute:                "1h1m",
		6*time.Minute + 30*time.Second:         "6m30s",
		99*time.Minute + 1400*time.Millisecond: "1h39m1s",
	} {
		if got := human(d); got != want {
			t.Errorf("human(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestFP(t *testing.T) {
	// The first 8 hex digits of SHA-256("abc").
	if got := FP("abc"); got != "ba7816bf" {
		t.Errorf("FP(abc) = %q", got)
	}
	if got := FP(""); got != "(none)" {
		t.Errorf("FP() = %q", got)
	}
}

func TestClock(t *testing.T) {
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	c := NewClock(start)
	c.Advance(PastJWT)
	if got := c.Now(); !got.Equal(start.Add(6 * time.Minute)) {
		t.Errorf("Now after Advance(PastJWT) = %v", got)
	}
	if NewClock(time.Time{}).Now().IsZero() {
		t.Error("NewClock(zero) reads zero")
	}
}

func TestAdvancesCoverWhatTheyClaim(t *testing.T) {
	if PastJWT <= JWTLifetime+30*time.Second {
		t.Errorf("PastJWT %v does not pass a JWT's expiry and guard's leeway", PastJWT)
	}
	if PastGrace <= GracePeriod || PastGrace <= guardReuseWindow || PastGrace >= JWTLifetime {
		t.Errorf("PastGrace %v must pass the grace period and guard's reuse window and stay within a JWT's lifetime", PastGrace)
	}
	if PastRefresh <= RefreshLifetime {
		t.Errorf("PastRefresh %v does not pass the refresh token's lifetime", PastRefresh)
	}
}

func TestRecorder(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Echo", r.Header.Get("X-In"))
		w.WriteHeader(http.StatusTeapot)
		w.Write(append([]byte("echo:"), b...))
	}))
	defer srv.Close()
	rec := &Recorder{}
	hc := &http.Client{Transport: rec}
	for _, body := range []io.Reader{strings.NewReader("one"), io.MultiReader(strings.NewReader("two"))} {
		req, _ := http.NewRequest("POST", srv.URL+"/p?q=1", body)
		req.Header.Set("X-In", "h")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.HasPrefix(got, []byte("echo:")) {
			t.Errorf("the caller got %q", got)
		}
	}
	if n := rec.Count("post /p"); n != 2 {
		t.Errorf("Count = %d, want 2", n)
	}
	xs := rec.Take()
	if len(xs) != 2 || rec.Take() != nil {
		t.Fatalf("Take = %d exchanges, then more", len(xs))
	}
	for i, want := range []string{"one", "two"} {
		x := xs[i]
		if x.Call() != "POST /p" || x.Query != "q=1" || string(x.RequestBody) != want || x.RequestHeader.Get("X-In") != "h" ||
			x.Status != http.StatusTeapot || x.Header.Get("X-Echo") != "h" || string(x.Body) != "echo:"+want {
			t.Errorf("exchange %d = %+v", i, x)
		}
	}
}

// TestExtraScenes checks the extension point: scenes in Options.Extra run
// after the article's, on the same Walk, and a failing one is reported with
// its step, in quiet mode with its own lines only.
func TestExtraScenes(t *testing.T) {
	ran := false
	ok := Scene{Title: "Extra: the app is logged in", Steps: "22", Run: func(ctx context.Context, w *Walk) error {
		ran = true
		if _, err := w.Tokens(ctx, "22", w.Mobile); err != nil {
			return err
		}
		w.Say("22", "Mobile", "still holds its tokens")
		return nil
	}}
	failing := Scene{Title: "Extra: a step that misbehaves", Steps: "23-24", Run: func(ctx context.Context, w *Walk) error {
		w.Say("23", "Mobile", "does something")
		return w.Fail("24", "it went wrong")
	}}
	plain := Scene{Title: "Extra: an error without a step", Steps: "25", Run: func(ctx context.Context, w *Walk) error {
		return errors.New("boom")
	}}

	var out bytes.Buffer
	res, err := Run(context.Background(), Options{Out: &out, Dir: t.TempDir(), Extra: []Scene{ok}})
	if err != nil || !ran {
		t.Fatalf("Run with a passing extra scene: %v (ran %v)\n%s", err, ran, out.String())
	}
	if !strings.Contains(out.String(), "── Extra: the app is logged in (step 22)") || res.Steps[len(res.Steps)-1] != "22" {
		t.Errorf("the extra scene is not printed last:\n%s", out.String())
	}

	for _, tc := range []struct {
		scene Scene
		step  string
	}{{failing, "24"}, {plain, "25"}} {
		out.Reset()
		_, err = Run(context.Background(), Options{Out: &out, Quiet: true, Dir: t.TempDir(), Extra: []Scene{tc.scene}})
		var se *StepError
		if !errors.As(err, &se) || se.Step != tc.step || se.Scene != tc.scene.Title {
			t.Fatalf("Run with %q = %v, want a StepError for step %s", tc.scene.Title, err, tc.step)
		}
		if !strings.HasPrefix(out.String(), "── "+tc.scene.Title) || !strings.Contains(out.String(), "✗ FAILED") {
			t.Errorf("quiet output of %q:\n%s", tc.scene.Title, out.String())
		}
	}
}

// TestStartCleansUp checks that Close removes the data unless kept.
func TestStartCleansUp(t *testing.T) {
	for _, keep := range []bool{false, true} {
		env, err := Start(context.Background(), Options{Dir: t.TempDir(), Keep: keep})
		if err != nil {
			t.Fatal(err)
		}
		if err := env.Close(); err != nil {
			t.Fatal(err)
		}
		if err := env.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		_, err = os.Stat(env.Dir)
		if keep != (err == nil) {
			t.Errorf("keep %v: data directory after Close: %v", keep, err)
		}
	}
}
