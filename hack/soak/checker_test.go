package main

import (
	"testing"
	"time"

	"github.com/tokenops/figma-token-operator/internal/harness"
	"github.com/tokenops/figma-token-operator/pkg/fakeamplify"
)

// A lapsed token fails the run unless the injected faults alone blocked the operator for its
// whole refresh margin; a single hang does not.
func TestLapsedTokensFailTheRunUnlessFaultsAloneCausedThem(t *testing.T) {
	expiry := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		windows []window
		fails   bool
	}{
		{name: "no fault", fails: true},
		{name: "one hang of this token", fails: true,
			windows: []window{{kind: "upstream hang", start: expiry.Add(-34 * time.Second), end: expiry.Add(-4 * time.Second), token: "rt"}}},
		{name: "a hang of another token and an outage", fails: true,
			windows: []window{{kind: "upstream hang", start: expiry.Add(-34 * time.Second), end: expiry.Add(-4 * time.Second), token: "other"},
				{kind: "API server outage", start: expiry.Add(-20 * time.Second), end: expiry.Add(-5 * time.Second)}}},
		{name: "a hang, then an outage to the end", fails: false,
			windows: []window{{kind: "upstream hang", start: expiry.Add(-34 * time.Second), end: expiry.Add(-4 * time.Second), token: "rt"},
				{kind: "API server outage", start: expiry.Add(-10 * time.Second), end: expiry.Add(5 * time.Second)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &soak{faults: map[string]int{}, windows: tc.windows,
				fake: &harness.Endpoint{Fake: fakeamplify.New(fakeamplify.Options{})}}
			s.checker.s = s
			s.checker.lapsed("token-00001", expiry, "rt")
			s.checker.lapsed("token-00001", expiry, "rt") // counted once
			r := s.result()
			if r.ok() == tc.fails {
				t.Fatalf("ok %v with violations %v and excused %v", r.ok(), r.Violations, r.Excused)
			}
			if tc.fails && r.ExpiredTokens != 1 {
				t.Fatalf("%d expired tokens counted, want 1", r.ExpiredTokens)
			}
		})
	}
}
