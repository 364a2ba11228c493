package operator

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
)

// leaseFence keeps a deposed leader from writing. client-go's leader election does no
// fencing: a leader that was paused (a frozen node, a suspended VM, SIGSTOP) for longer than
// its lease wakes up still believing it leads, and its workers may write before its own
// renewal finds that a standby took over. The fence watches this process's renewals of its
// Lease as they pass through the transport, and refuses every other write (create, update,
// patch, delete) once the last successful renewal is older than the renew deadline, the
// point at which client-go itself gives leadership up; a standby can take over only after
// the longer lease duration. Reads, the Lease itself and the metrics endpoint's
// TokenReviews and SubjectAccessReviews pass. The reconciler asks the same check before it
// does anything (controllers.FigmaTokenReconciler.Leading), so no upstream call is spent
// either. Before the first renewal nothing is written:
// the reconcilers start only once this process leads.
//
// What remains: a write checked just before the pause and sent just after it. The renewal
// time is taken when the renewal is sent, before the API server's own, so the fence errs on
// the side of refusing.
type leaseFence struct {
	clock    clock.PassiveClock
	lease    string // the Lease's name
	deadline time.Duration

	mu      sync.Mutex
	renewed time.Time // when the last successful renewal was sent; zero before the first
}

// wrap puts the fence in front of config's transport.
func (f *leaseFence) wrap(config *rest.Config) *rest.Config {
	fenced := rest.CopyConfig(config)
	fenced.Wrap(func(next http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(req *http.Request) (*http.Response, error) { return f.roundTrip(next, req) })
	})
	return fenced
}

func (f *leaseFence) roundTrip(next http.RoundTripper, req *http.Request) (*http.Response, error) {
	switch {
	case f.isLease(req):
		sent := f.clock.Now()
		resp, err := next.RoundTrip(req)
		if err == nil && req.Method != http.MethodGet && resp.StatusCode/100 == 2 {
			f.mu.Lock()
			f.renewed = sent
			f.mu.Unlock()
		}
		return resp, err
	case isWrite(req) && !isReview(req):
		if err := f.check(); err != nil {
			return nil, fmt.Errorf("%s %s not sent: %w", req.Method, req.URL.Path, err)
		}
	}
	return next.RoundTrip(req)
}

// check refuses when the last renewal is older than the deadline, by either the monotonic
// clock or the wall clock (which, unlike the monotonic one, goes on while a VM is suspended).
func (f *leaseFence) check() error {
	f.mu.Lock()
	renewed := f.renewed
	f.mu.Unlock()
	if renewed.IsZero() {
		return fmt.Errorf("this replica has not renewed its leader-election Lease %q yet", f.lease)
	}
	now := f.clock.Now()
	if since := max(now.Sub(renewed), now.Round(0).Sub(renewed.Round(0))); since > f.deadline {
		return fmt.Errorf("this replica last renewed its leader-election Lease %q %s ago, more than the renew deadline (%s): another replica may lead",
			f.lease, since.Round(time.Millisecond), f.deadline)
	}
	return nil
}

// isLease reports whether req is about this process's Lease (its creation included).
func (f *leaseFence) isLease(req *http.Request) bool {
	path := req.URL.Path
	if !strings.HasPrefix(path, "/apis/coordination.k8s.io/") {
		return false
	}
	return strings.HasSuffix(path, "/leases/"+f.lease) || (req.Method == http.MethodPost && strings.HasSuffix(path, "/leases"))
}

func isWrite(req *http.Request) bool {
	switch req.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// isReview reports whether req asks the API server a question (TokenReview,
// SubjectAccessReview) rather than changing anything.
func isReview(req *http.Request) bool {
	return strings.HasPrefix(req.URL.Path, "/apis/authentication.k8s.io/") || strings.HasPrefix(req.URL.Path, "/apis/authorization.k8s.io/")
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
