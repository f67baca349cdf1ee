package state

import (
	"math"
	"runtime/debug"
	"sync"
)

// The Go heap's soft memory limit can make room for the on-disk stores:
// Pebble's block cache and memtables live in the Go heap (weir builds
// without cgo), so a process whose limit was sized for its own working
// memory would otherwise run its collector without pause once a store's
// cache has filled.
var limit struct {
	sync.Mutex
	raise bool
}

// RaiseMemoryLimit makes each on-disk store opened from now on raise the Go
// heap's soft memory limit (runtime/debug.SetMemoryLimit) by its cache and
// memtables while it is open. A program calls it when it set the limit
// itself, not when the user did (GOMEMLIMIT).
func RaiseMemoryLimit() {
	limit.Lock()
	limit.raise = true
	limit.Unlock()
}

// addMemoryLimit moves the soft memory limit by delta bytes, if
// RaiseMemoryLimit was called and a limit is set; it returns the change
// made, for the store to take back when it closes.
func addMemoryLimit(delta int64) int64 {
	limit.Lock()
	defer limit.Unlock()
	if !limit.raise {
		return 0
	}
	cur := debug.SetMemoryLimit(-1)
	if cur == math.MaxInt64 || cur+delta <= 0 {
		return 0
	}
	debug.SetMemoryLimit(cur + delta)
	return delta
}
