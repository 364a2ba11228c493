package main

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/tokenops/figma-token-operator/internal/amplify"
	"github.com/tokenops/figma-token-operator/internal/schedule"
	"github.com/tokenops/figma-token-operator/pkg/fakeamplify"
)

// Upstream faults, per call.
const (
	unavailableShare = 0.05  // 5xx
	throttledShare   = 0.02  // 429
	hangShare        = 0.005 // no answer: the call ends at its deadline, retried after the backoff
	malformedShare   = 0.005 // a 200 whose body is not the API's
	hangFor          = 40 * time.Second
)

// upstreamFault decides, for each call, whether it meets a fault.
func (s *soak) upstreamFault(credential string) (fakeamplify.Behavior, *fakeamplify.Failure) {
	s.rngMu.Lock()
	roll := s.rng.Float64()
	s.rngMu.Unlock()
	switch {
	case roll < unavailableShare:
		s.countFault("upstream_5xx")
		return fakeamplify.Behavior{}, &fakeamplify.Failure{Status: http.StatusServiceUnavailable, Code: "ServiceUnavailableException"}
	case roll < unavailableShare+throttledShare:
		s.countFault("upstream_429")
		return fakeamplify.Behavior{}, &fakeamplify.Failure{Status: http.StatusTooManyRequests, Code: "TooManyRequestsException"}
	case roll < unavailableShare+throttledShare+hangShare:
		s.countFault("upstream_hang")
		// The call is held until its deadline, a transient failure; the retry after the first
		// backoff is a new call.
		now := time.Now()
		end := now.Add(amplify.DefaultCallTimeout + schedule.FirstBackoff(schedule.Transient))
		s.addWindow(window{kind: "upstream hang", start: now, end: end, secret: secretOf(credential)})
		logf("fault: a call for Secret %s hangs", secretOf(credential))
		return fakeamplify.Behavior{Delay: hangFor}, nil
	case roll < unavailableShare+throttledShare+hangShare+malformedShare:
		s.countFault("upstream_malformed")
		return fakeamplify.Behavior{Body: `{"accessToken": 42, "expiresIn": "soon"`}, nil
	}
	return fakeamplify.Behavior{}, nil
}

// event is a planned outage or leader kill, at an offset from the start.
type event struct {
	at     time.Duration
	outage time.Duration // > 0: the API server is unreachable this long; else a leader kill
}

// plan alternates leader kills and API server outages (10 to 20 s) from the seed, a kill
// first, early, so that a short run has one. Each begins 60 to 90 s after the one before
// ended, so that no kill comes within a minute of an outage and each recovery is timed on
// its own: in 10 minutes, four of each, about every 2.5 minutes.
func (s *soak) plan() []event {
	var events []event
	kill := true
	for at := s.between(20*time.Second, 30*time.Second); ; kill = !kill {
		e := event{at: at}
		if !kill {
			e.outage = s.between(10*time.Second, 20*time.Second)
		}
		// The last fault ends half a minute before the run does, so that its failover is
		// over, and timed, while users still act.
		if at+e.outage > s.cfg.duration-30*time.Second {
			return events
		}
		events = append(events, e)
		at += e.outage + s.between(60*time.Second, 90*time.Second)
	}
}

// chaos carries out the plan.
func (s *soak) chaos(ctx context.Context) {
	for _, e := range s.plan() {
		sleep(ctx, time.Until(s.begin.Add(e.at)))
		if ctx.Err() != nil {
			return
		}
		if e.outage > 0 {
			s.outage(ctx, e.outage)
		} else {
			s.killLeader(ctx)
		}
	}
}

// outage makes the API server unreachable for the operator, as a control-plane restart does.
func (s *soak) outage(ctx context.Context, d time.Duration) {
	logf("fault: the API server is unreachable for %s", d.Round(time.Second))
	start := time.Now()
	s.proxy.Down()
	sleep(ctx, d)
	if err := s.proxy.Up(); err != nil {
		logf("proxy: %v", err)
	}
	end := time.Now()
	s.mu.Lock()
	s.outages++
	s.faults["api_outage"]++
	s.mu.Unlock()
	s.checker.recoverFrom("API server outage", end)
	// A leader that could not renew its lease has exited; a newcomer waits a lease duration
	// before it takes over. Until a replica leads, nothing can be refreshed.
	s.addWindow(window{kind: "API server outage and failover", start: start, end: s.ledAgain(ctx, end)})
}

// ledAgain is when a replica leads again after since (at most a minute later).
func (s *soak) ledAgain(ctx context.Context, since time.Time) time.Time {
	for deadline := since.Add(time.Minute); time.Now().Before(deadline) && ctx.Err() == nil; {
		if s.leader() != nil {
			return time.Now()
		}
		sleep(ctx, 250*time.Millisecond)
	}
	return time.Now()
}

// killLeader SIGKILLs the replica holding the lease; its restart is the new standby.
func (s *soak) killLeader(ctx context.Context) {
	l := s.waitForLeader(ctx)
	if l == nil {
		return
	}
	logf("fault: SIGKILL of the leader, replica %s", l.name)
	at := time.Now()
	l.kill()
	s.mu.Lock()
	s.kills++
	s.faults["leader_kill"]++
	s.mu.Unlock()
	s.checker.recoverFrom("leader kill", at)
	// Until the standby takes over (the lease lasts 15 s) nothing is refreshed.
	s.addWindow(window{kind: "leader kill and failover", start: at, end: s.ledAgain(ctx, at)})
}

// secretOf is the Secret a refresh token was written to: refreshTokenFor's inverse.
func secretOf(refreshToken string) string {
	name := strings.TrimPrefix(refreshToken, "soakrt-")
	if i := strings.LastIndex(name, "-"); i > 0 {
		return name[:i]
	}
	return name
}
