package main

import (
	"fmt"
	"os"
	"sync"
	"time"
)

// progress keeps one line on stderr up to date: what is running, which
// round, and the time since the run began.
type progress struct {
	began time.Time
	mu    sync.Mutex
	what  string
	quit  chan struct{}
	once  sync.Once
	done  sync.WaitGroup
}

func newProgress() *progress {
	p := &progress{began: time.Now(), quit: make(chan struct{})}
	p.done.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-p.quit:
				return
			case <-t.C:
				p.print()
			}
		}
	})
	return p
}

// set says what is running now.
func (p *progress) set(format string, args ...any) {
	p.mu.Lock()
	p.what = fmt.Sprintf(format, args...)
	p.mu.Unlock()
	p.print()
}

// note prints a line of its own (a step done) above the progress line.
func (p *progress) note(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(os.Stderr, "\r\033[K%s  %s\n", elapsed(time.Since(p.began)), fmt.Sprintf(format, args...))
}

func (p *progress) print() {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(os.Stderr, "\r\033[K%s  %s", elapsed(time.Since(p.began)), p.what)
}

// stop ends the line; calling it again does nothing.
func (p *progress) stop() {
	p.once.Do(func() {
		close(p.quit)
		p.done.Wait()
		fmt.Fprintf(os.Stderr, "\r\033[K%s  done\n", elapsed(time.Since(p.began)))
	})
}

func elapsed(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%02d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
}
