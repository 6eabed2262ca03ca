package browser_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// chromiumPath returns the browser to drive: LATCH_CHROMIUM, else
// chromium on PATH. Without one the test is skipped, or fails with
// CI=true.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("LATCH_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "chromium not found (apt-get install chromium, or set LATCH_CHROMIUM)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

var (
	browserOnce sync.Once
	browserCtx  context.Context
	browserErr  error
	// stopBrowser ends the shared browser; TestMain calls it.
	stopBrowser = func() {}
)

func TestMain(m *testing.M) {
	code := m.Run()
	stopBrowser()
	os.Exit(code)
}

// startBrowser starts the package's one Chromium, once: a browser start
// costs about a second, a tab (with a browser context of its own) much
// less.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	browserOnce.Do(func() {
		dir, err := os.MkdirTemp("", "latch-chromium-")
		if err != nil {
			browserErr = err
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path),
			chromedp.UserDataDir(dir),
			chromedp.WindowSize(800, 900),
		)
		if os.Geteuid() == 0 {
			// Chromium's sandbox refuses to run as root.
			opts = append(opts, chromedp.NoSandbox)
		}
		allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancel := chromedp.NewContext(allocCtx)
		stopBrowser = func() {
			cancel()
			cancelAlloc()
			os.RemoveAll(dir)
		}
		// The first Do starts the browser, bound to ctx (no timeout).
		browserErr = chromedp.Do(ctx)
		browserCtx = ctx
	})
	if browserErr != nil {
		t.Fatalf("start %s: %v", path, browserErr)
	}
	return browserCtx
}

// newTab opens a tab in a new browser context (its own cookies, like a
// private window) that closes with the test; every action on it must end
// within timeout.
func newTab(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	parent := startBrowser(t)
	ctx, cancel := chromedp.NewContext(parent, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(cancelTimeout)
	return ctx
}

// disableScripts turns JavaScript off in the tab, for the pages loaded
// from now on.
func disableScripts(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatalf("disable JavaScript: %v", err)
	}
}

// scriptsRun reports whether JavaScript runs in the tab: it loads a page
// (of a server of its own, with no Content-Security-Policy) whose inline
// script sets the title. A DevTools evaluation would not tell: it runs
// whatever the setting.
func scriptsRun(t *testing.T, ctx context.Context) (bool, error) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>off</title><script>document.title = "on"</script>`)
	}))
	defer srv.Close()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		return false, err
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	return title == "on", err
}

// artifact writes b as name into the test's artifact directory (kept by
// go test -artifacts), and logs where.
func artifact(t *testing.T, name string, b []byte) {
	t.Helper()
	path := filepath.Join(t.ArtifactDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatalf("write %s: %v", name, err)
	}
	t.Logf("artifact: %s", path)
}

// screenshot keeps a full-page PNG of the tab as an artifact.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if len(png) < 8 || string(png[1:4]) != "PNG" {
		t.Fatalf("screenshot: not a PNG (%d bytes)", len(png))
	}
	artifact(t, name, png)
}

// labelledInput is an XPath selector of the input that the label whose
// text contains text (in any case) is for: the way a user, or a screen
// reader, finds a field.
func labelledInput(text string) string {
	const upper, lower = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"
	return fmt.Sprintf(`//input[@id=//label[contains(translate(normalize-space(.), %q, %q), %q)]/@for]`, upper, lower, lowerASCII(text))
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// framedInputs returns, for each iframe of the tab's page, the types of
// the input elements its document holds (pierced through the frames of
// one process: loopback origins are one site, so they share a process).
// A frame whose page the browser refused to show holds an error page,
// with no inputs.
func framedInputs(ctx context.Context) (map[string][]string, error) {
	res, err := chromedp.Call(ctx, dom.GetDocument, dom.GetDocumentParams{Depth: new(int64(-1)), Pierce: new(true)})
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	var walk func(n *cdp.Node, frame string)
	walk = func(n *cdp.Node, frame string) {
		if n == nil {
			return
		}
		if n.LocalName == "input" && frame != "" {
			out[frame] = append(out[frame], attr(n, "type"))
		}
		if n.LocalName == "iframe" {
			id := attr(n, "id")
			if _, ok := out[id]; !ok {
				out[id] = nil
			}
			walk(n.ContentDocument, id)
		}
		for _, c := range n.Children {
			walk(c, frame)
		}
	}
	walk(res.Root, "")
	return out, nil
}

// attr returns the value of n's attribute name, or "".
func attr(n *cdp.Node, name string) string {
	for i := 0; i+1 < len(n.Attributes); i += 2 {
		if n.Attributes[i] == name {
			return n.Attributes[i+1]
		}
	}
	return ""
}
