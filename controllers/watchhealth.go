package controllers

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"time"

	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
)

// cacheDoubtFor is how long after the API server was out of reach the cache may still miss
// changes: an informer whose watch failed retries with a backoff that grows to between 30 and
// 60 s (less with the manager's reconnecting transport), and sees nothing of what changed
// until a retry succeeds.
const cacheDoubtFor = time.Minute

// WatchHealth remembers when the cache's watches last broke: a watch failed, or a request found
// no API server. Until cacheDoubtFor has passed, observe reads Secrets from the API server
// rather than trusting their cached metadata: a refresh token rotated during an outage is then
// used as soon as a reconcile comes, such as a new leader's first one.
type WatchHealth struct {
	clock clock.PassiveClock
	// failedAt is the last failure, in Unix nanoseconds; 0 when none.
	failedAt atomic.Int64
}

// NewWatchHealth tracks watch failures by clk's time.
func NewWatchHealth(clk clock.PassiveClock) *WatchHealth {
	return &WatchHealth{clock: clk}
}

// Failed notes that a request found no API server: the watches are broken too.
func (h *WatchHealth) Failed() {
	h.failedAt.Store(h.clock.Now().UnixNano())
}

// HandleWatchError is the cache's watch error handler (cache.Options.DefaultWatchErrorHandler):
// it notes the failure and logs it as client-go does. A watch that ended normally (EOF) is
// no failure. (A refused watch is retried inside client-go without reaching it: Failed, told
// by the manager's transport, covers that.)
func (h *WatchHealth) HandleWatchError(ctx context.Context, r *toolscache.Reflector, err error) {
	if !errors.Is(err, io.EOF) {
		h.Failed()
	}
	toolscache.DefaultWatchErrorHandler(ctx, r, err)
}

// CacheTrusted reports whether the watches have not broken for cacheDoubtFor. Without a
// tracker (nil), the cache is trusted.
func (h *WatchHealth) CacheTrusted() bool {
	if h == nil {
		return true
	}
	failedAt := h.failedAt.Load()
	return failedAt == 0 || h.clock.Since(time.Unix(0, failedAt)) >= cacheDoubtFor
}
