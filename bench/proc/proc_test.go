package proc

import (
	"crypto/sha256"
	"os"
	"syscall"
	"testing"
	"time"
)

func TestCPUOwnProcess(t *testing.T) {
	// The kernel's own account (getrusage) is the reference: burn until it
	// says 200 ms more were used, then /proc must say about as much.
	before, err := CPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	r0 := rusageCPU(t)
	var sum [32]byte
	for rusageCPU(t)-r0 < 200*time.Millisecond {
		for range 10000 {
			sum = sha256.Sum256(sum[:])
		}
	}
	after, err := CPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	ref := rusageCPU(t) - r0
	if used := after - before; used < ref-50*time.Millisecond || used > ref+50*time.Millisecond {
		t.Errorf("/proc says %v of CPU were used, getrusage %v", used, ref)
	}
}

// rusageCPU is this process's user plus system time by getrusage.
func rusageCPU(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestPeakRSSOwnProcess(t *testing.T) {
	before, err := PeakRSS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	after, err := PeakRSS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if after < before+32<<20 {
		t.Errorf("peak RSS %d, then %d after touching 64 MiB", before, after)
	}
	_ = buf[len(buf)-1]
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		want    time.Duration
		wantErr bool
	}{
		{"plain", "42 (latch) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 100 0 0", 3 * time.Second, false},
		{"name with spaces and parens", "42 (a (b) c) R 1 42 42 0 -1 0 0 0 0 0 7 3 0 0", 100 * time.Millisecond, false},
		{"no name", "42 latch S", 0, true},
		{"short", "42 (latch) S 1 2", 0, true},
		{"not a number", "42 (latch) S 1 42 42 0 -1 0 0 0 0 0 x 3 0 0", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat([]byte(tt.line))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseStat = %v, %v; want %v, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseHWM(t *testing.T) {
	got, err := parseHWM([]byte("Name:\tlatch\nVmPeak:\t  9000 kB\nVmHWM:\t    1234 kB\nVmRSS:\t 1000 kB\n"))
	if err != nil || got != 1234*1024 {
		t.Errorf("parseHWM = %d, %v; want %d", got, err, 1234*1024)
	}
	if _, err := parseHWM([]byte("Name:\tlatch\n")); err == nil {
		t.Error("parseHWM without a VmHWM line: no error")
	}
}
