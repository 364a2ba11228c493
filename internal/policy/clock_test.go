package policy

import (
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// failForever follows a FigmaToken whose every refresh fails with reason on a fake clock:
// it wakes when the decision says, fails when it refreshes, and returns the waits between
// attempts.
func failForever(t *testing.T, reason string, attempts int) []time.Duration {
	t.Helper()
	clock := clocktesting.NewFakePassiveClock(now)
	o := with(healthy(), func(o *Observation) { o.Record.ExpiresAt = now.Add(100 * 24 * time.Hour) })
	o.Request = "now" // asks for a refresh at once
	var waits []time.Duration
	last := clock.Now()
	for len(waits) < attempts {
		o.Now = clock.Now()
		d := Decide(o)
		if !d.Refresh {
			clock.SetTime(d.Wake)
			continue
		}
		if o.Failure.Attempts > 0 {
			waits = append(waits, clock.Since(last))
		}
		last = clock.Now()
		o.Failure = Failure{Attempts: o.Failure.Attempts + 1, Last: last, Reason: reason, Generation: o.Generation,
			CredentialHash: o.CredentialHash(), Request: o.Request}
	}
	return waits
}

// expectWaits checks the waits between attempts: exactly want, then one more within the
// capped [90% of limit, limit].
func expectWaits(t *testing.T, got, want []time.Duration, limit time.Duration) {
	t.Helper()
	for i, w := range want {
		if got[i] != w {
			t.Fatalf("wait %d = %v, want %v (all: %v)", i+1, got[i], w, got)
		}
	}
	if last := got[len(want)]; last > limit || last < limit*9/10 {
		t.Fatalf("wait %d = %v, want within the capped [%v, %v]", len(want)+1, last, limit*9/10, limit)
	}
}

func TestTransientBackoffDoublesFrom5sTo5Minutes(t *testing.T) {
	// 5 s doubling, capped at 5 min, each less a deterministic jitter of at most 10%.
	expectWaits(t, failForever(t, figmav1alpha1.ReasonRefreshFailed, 9),
		[]time.Duration{4856135950, 9960237775, 19076811104, 36077245818, 73561075749, 151438510812, 274255688677, 272910419500}, 5*time.Minute)
}

func TestRejectionBackoffGrowsToAnHour(t *testing.T) {
	// A minute doubling, capped at an hour.
	expectWaits(t, failForever(t, figmav1alpha1.ReasonRefreshRejected, 9),
		[]time.Duration{58273631389, 119522853292, 228921733240, 432926949807, 882732908978, 1817262129737, 3291068264119, 3274925033997}, time.Hour)
}

func TestReadyTurnsFalseAtExpiryWhileRefreshesFail(t *testing.T) {
	clock := clocktesting.NewFakePassiveClock(now)
	o := healthy()
	expiry := o.Record.ExpiresAt
	var lastTrue, firstFalse time.Time
	for i := 0; i < 1000 && firstFalse.IsZero(); i++ {
		o.Now = clock.Now()
		d := Decide(o)
		if d.Ready {
			lastTrue = o.Now
		} else {
			firstFalse = o.Now
			if d.ReadyReason != figmav1alpha1.ReasonRefreshFailed {
				t.Fatalf("Ready False with %s, want RefreshFailed", d.ReadyReason)
			}
			break
		}
		if d.Refresh {
			o.Failure = Failure{Attempts: o.Failure.Attempts + 1, Last: o.Now, Reason: figmav1alpha1.ReasonRefreshFailed,
				Message: "RefreshToken failed: HTTP 503. Retrying with backoff.", Generation: o.Generation, CredentialHash: o.CredentialHash()}
			continue
		}
		clock.SetTime(d.Wake)
	}
	if !firstFalse.Equal(expiry) {
		t.Fatalf("Ready turned False at %v (last True at %v), want exactly at the expiry %v", firstFalse, lastTrue, expiry)
	}
}
