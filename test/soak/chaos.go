package main

import (
	"context"
	"fmt"
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

// event is a planned fault, at an offset from the start.
type event struct {
	at     time.Duration
	kind   string        // one of plannedFaults
	outage time.Duration // how long the fault lasts: the API server away, the previous version leading
}

// plan takes leader kills, API server outages (10 to 20 s), leader pauses, API server
// restarts (down 2 to 10 s) and upgrades in turn (in the order of -faults), from the seed, the first early, so that a short run has one. Each begins 60 to 90 s after
// the one before ended, so that each recovery is timed on its own: in 10 minutes, about
// three of each, one every 2.5 minutes.
func (s *soak) plan() []event {
	var events []event
	for i, at := 0, s.between(20*time.Second, 30*time.Second); ; i++ {
		e := event{at: at, kind: s.cfg.faults[i%len(s.cfg.faults)]}
		switch e.kind {
		case "api_outage":
			e.outage = s.between(10*time.Second, 20*time.Second)
		case "apiserver_restart":
			e.outage = s.between(2*time.Second, 10*time.Second)
		case "upgrade":
			e.outage = previousLeads // at least: the next fault keeps its minute clear of it
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
		switch e.kind {
		case "api_outage":
			s.outage(ctx, e.outage)
		case "leader_pause":
			s.pauseLeader(ctx)
		case "apiserver_restart":
			s.restartAPIServer(ctx, e.outage)
		case "upgrade":
			s.upgrade(ctx)
		default:
			s.killLeader(ctx)
		}
	}
}

// outage makes the API server unreachable for the operator, as a control-plane restart does.
func (s *soak) outage(ctx context.Context, d time.Duration) {
	logf("fault: the API server is unreachable for %s", d.Round(time.Second))
	closeWindow := s.openWindow("API server outage and failover")
	for _, r := range s.replicas {
		r.proxy.Down()
	}
	sleep(ctx, d)
	for _, r := range s.replicas {
		if err := r.proxy.Up(); err != nil {
			logf("proxy: %v", err)
		}
	}
	s.apiServerBack(ctx, "api_outage", &s.outages, "API server outage", closeWindow)
}

// apiServerBack records an API server fault that lasted until now: its count,
// the recovery timed from now, and its window, until a replica leads again. A leader that
// could not renew its lease has exited; a newcomer waits a lease duration before it takes
// over. Until a replica leads, nothing can be refreshed.
func (s *soak) apiServerBack(ctx context.Context, fault string, count *int, what string, closeWindow func(time.Time)) {
	end := time.Now()
	s.mu.Lock()
	*count++
	s.faults[fault]++
	s.mu.Unlock()
	s.checker.recoverFrom(what, end)
	closeWindow(s.ledAgain(ctx, end))
}

// restartAPIServer stops the kube-apiserver process and starts it again d later, with the
// same etcd, port and certificates: every connection and watch breaks, and the informers
// relist (410 Gone) once it is back, as in a control-plane upgrade. Users and the checker,
// who talk to it directly, wait too.
func (s *soak) restartAPIServer(ctx context.Context, d time.Duration) {
	logf("fault: kube-apiserver stopped for %s, then started again", d.Round(time.Second))
	closeWindow := s.openWindow("API server restart and failover")
	if err := s.cluster.StopAPIServer(); err != nil {
		logf("stopping kube-apiserver: %v", err)
	}
	sleep(ctx, d)
	if err := s.cluster.StartAPIServer(); err != nil {
		s.checker.violate("apiserver_restart", fmt.Sprintf("kube-apiserver did not start again: %v", err))
		closeWindow(time.Now())
		return
	}
	s.apiServerBack(ctx, "apiserver_restart", &s.restarts, "API server restart", closeWindow)
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
	closeWindow := s.openWindow("leader kill and failover")
	l.kill()
	s.mu.Lock()
	s.kills++
	s.faults["leader_kill"]++
	s.mu.Unlock()
	s.checker.recoverFrom("leader kill", at)
	// Until the standby takes over (the lease lasts 15 s) nothing is refreshed.
	closeWindow(s.ledAgain(ctx, at))
}

// pauseLeader stops the leader (SIGSTOP: a frozen node, a suspended VM) until the other
// replica has taken the lease, then lets it go on (SIGCONT). It wakes believing it leads,
// until its own leader election finds the lease taken and it exits; any write it sends
// meanwhile (its Lease aside) is a violation, counted at its proxy.
func (s *soak) pauseLeader(ctx context.Context) {
	l := s.waitForLeader(ctx)
	if l == nil {
		return
	}
	l.mu.Lock()
	p := l.process
	l.mu.Unlock()
	logf("fault: SIGSTOP of the leader, replica %s, until the other replica leads", l.name)
	at := time.Now()
	closeWindow := s.openWindow("leader pause and failover")
	if err := p.Pause(); err != nil {
		logf("pause: %v", err)
		closeWindow(time.Now())
		return
	}
	var next *replica
	for deadline := at.Add(time.Minute); next == nil && time.Now().Before(deadline) && ctx.Err() == nil; {
		sleep(ctx, 250*time.Millisecond)
		for _, r := range s.replicas {
			if r != l && r.leads() {
				next = r
			}
		}
	}
	led := time.Now()
	l.deposed.Store(true)
	if err := p.Resume(); err != nil {
		logf("resume: %v", err)
	}
	leader := "none"
	if next != nil {
		leader = "replica " + next.name
	}
	logf("fault: replica %s resumed after %s; %s leads", l.name, led.Sub(at).Round(time.Second), leader)
	s.mu.Lock()
	s.pauses++
	s.faults["leader_pause"]++
	s.mu.Unlock()
	s.checker.recoverFrom("leader pause", at)
	closeWindow(led)
}

// secretOf is the Secret a refresh token was written to: refreshTokenFor's inverse.
func secretOf(refreshToken string) string {
	name := strings.TrimPrefix(refreshToken, "soakrt-")
	if i := strings.LastIndex(name, "-"); i > 0 {
		return name[:i]
	}
	return name
}
