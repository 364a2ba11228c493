package main

import (
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tokenops/figma-token-operator/internal/harness"
	"github.com/tokenops/figma-token-operator/pkg/fakeamplify"
)

// A lapsed token fails the run unless the injected faults alone blocked the operator for its
// whole refresh margin; a single hang does not. A hang counts for its FigmaToken whichever
// refresh token it sent (a rotation since does not free the reconcile it holds).
func TestLapsedTokensFailTheRunUnlessFaultsAloneCausedThem(t *testing.T) {
	expiry := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		windows []window
		fails   bool
	}{
		{name: "no fault", fails: true},
		{name: "one hang of this token", fails: true,
			windows: []window{{kind: "upstream hang", start: expiry.Add(-34 * time.Second), end: expiry.Add(-4 * time.Second), secret: "token-00001"}}},
		{name: "a hang of another token and an outage", fails: true,
			windows: []window{{kind: "upstream hang", start: expiry.Add(-34 * time.Second), end: expiry.Add(-4 * time.Second), secret: "token-00002"},
				{kind: "API server outage", start: expiry.Add(-20 * time.Second), end: expiry.Add(-5 * time.Second)}}},
		{name: "a hang, then an outage to the end", fails: false,
			windows: []window{{kind: "upstream hang", start: expiry.Add(-34 * time.Second), end: expiry.Add(-4 * time.Second), secret: "token-00001"},
				{kind: "API server outage", start: expiry.Add(-10 * time.Second), end: expiry.Add(5 * time.Second)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &soak{faults: map[string]int{}, windows: tc.windows,
				fake: &harness.Endpoint{Fake: fakeamplify.New(fakeamplify.Options{})}}
			s.checker.s = s
			s.checker.lapsed("token-00001", expiry)
			s.checker.lapsed("token-00001", expiry) // counted once
			r := s.result()
			if r.ok(false) == tc.fails || !r.ok(true) {
				t.Fatalf("ok %v, safe %v, with violations %v and excused %v", r.ok(false), r.ok(true), r.Violations, r.Excused)
			}
			if tc.fails && r.ExpiredTokens != 1 {
				t.Fatalf("%d expired tokens counted, want 1", r.ExpiredTokens)
			}
		})
	}
}

// The plan keeps every fault a minute clear of the one before, takes the faults in turn,
// and a 90 s run has the first.
func TestPlanKeepsFaultsAMinuteApartAndInTurn(t *testing.T) {
	for seed := uint64(1); seed < 50; seed++ {
		for _, d := range []time.Duration{90 * time.Second, 10 * time.Minute} {
			s := &soak{cfg: config{duration: d, seed: seed, faults: plannedFaults}, rng: rand.New(rand.NewPCG(seed, seed))}
			events := s.plan()
			count := map[string]int{}
			for i, e := range events {
				count[e.kind]++
				if e.kind != plannedFaults[i%len(plannedFaults)] {
					t.Fatalf("seed %d: event %d is %s, want %s", seed, i, e.kind, plannedFaults[i%len(plannedFaults)])
				}
				if i > 0 && e.at < events[i-1].at+events[i-1].outage+time.Minute {
					t.Fatalf("seed %d: event at %s within a minute of the one before", seed, e.at)
				}
			}
			if count[plannedFaults[0]] == 0 {
				t.Fatalf("seed %d, %s: no %s", seed, d, plannedFaults[0])
			}
			if d == 10*time.Minute {
				for _, fault := range plannedFaults {
					if count[fault] < 1 {
						t.Fatalf("seed %d, %s: %v, no %s", seed, d, count, fault)
					}
				}
			}
		}
	}
}

func TestSecretOfInvertsRefreshTokenFor(t *testing.T) {
	for _, name := range []string{"token-00001", "token-00500"} {
		for _, generation := range []int{0, 17} {
			if got := secretOf(refreshTokenFor(name, generation)); got != name {
				t.Fatalf("secretOf(%q) = %q", refreshTokenFor(name, generation), got)
			}
		}
	}
}

// A request is awaited until seen handled, unless a later one on its FigmaToken supersedes it
// or its FigmaToken is gone or has another refresh token.
func TestAwaitedRequests(t *testing.T) {
	now := time.Now()
	states := map[string]secretState{
		"a": {refreshToken: "rt-a", figmaToken: true},
		"b": {refreshToken: "rt-b", figmaToken: true},
		"c": {refreshToken: "rt-c2", figmaToken: true},
		"d": {refreshToken: "rt-d"},
	}
	forced := []forcedRefresh{
		{name: "a", token: "rt-a"},               // awaited
		{name: "b", token: "rt-b", handled: now}, // handled
		{name: "b", token: "rt-b"},               // awaited
		{name: "c", token: "rt-c1"},              // rotated since
		{name: "d", token: "rt-d"},               // deleted
		{name: "a", token: "rt-a", handled: now}, // supersedes the first
	}
	var got []bool
	for i := range forced {
		got = append(got, awaited(forced, i, states))
	}
	want := []bool{false, false, true, false, false, false}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("awaited = %v, want %v", got, want)
		}
	}
}

// A replica marked deposed (paused past its lease while the other took it) that sends a
// write, its Lease aside, is a deposed_leader_write; its reads and Lease requests are not,
// nor are its writes before it was deposed or once its process has been replaced.
func TestTheCheckerCountsWritesOfADeposedLeader(t *testing.T) {
	s := &soak{faults: map[string]int{}}
	s.checker.s = s
	r := &replica{s: s, name: "a"}
	send := func(method, path string) {
		req := httptest.NewRequest(method, "http://proxy"+path, nil)
		r.observe(&http.Response{StatusCode: http.StatusOK, Request: req})
	}
	const secret = "/api/v1/namespaces/soak/secrets/token-00001"
	const lease = "/apis/coordination.k8s.io/v1/namespaces/default/leases/figma-token-operator.figma.tokenops.dev"
	send(http.MethodPut, secret) // leading: its own
	r.deposed.Store(true)
	send(http.MethodGet, secret)
	send(http.MethodPut, lease)
	send(http.MethodPatch, secret)
	send(http.MethodPost, "/apis/events.k8s.io/v1/namespaces/soak/events")
	r.deposed.Store(false) // the process exited; its replacement is a standby
	send(http.MethodPut, secret)
	if len(s.checker.violations) != 2 {
		t.Fatalf("violations %+v, want the deposed leader's patch and Event", s.checker.violations)
	}
	for _, v := range s.checker.violations {
		if v.Kind != "deposed_leader_write" || !strings.Contains(v.Detail, "replica a") {
			t.Fatalf("violation %+v", v)
		}
	}
}
