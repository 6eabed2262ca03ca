//go:build !linux

package main

import (
	"testing"
	"time"
)

// cpu is the CPU time the server has used so far: unknown here (0), and
// BenchmarkParallelLogins then reports no cpu-of-hash.
func (l benchLatch) cpu(*testing.B) time.Duration { return 0 }

// selfCPU is the CPU time this process has used so far: unknown here (0).
func selfCPU(*testing.B) time.Duration { return 0 }
