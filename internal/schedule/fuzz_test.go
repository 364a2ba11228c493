package schedule

import (
	"testing"
	"time"
)

func FuzzExpiry(f *testing.F) {
	f.Add(int64(1_795_000_000), int64(0), int64(3600))
	f.Add(int64(1_795_000_000), int64(2), int64(0))
	f.Add(int64(1_795_000_000), int64(2), int64(-1))
	f.Add(int64(1_795_000_000), int64(2), int64(1_000_000_001))
	f.Add(int64(1_795_000_000), int64(2), int64(1_795_003_600))
	f.Add(int64(0), int64(0), int64(1<<62))
	f.Fuzz(func(t *testing.T, sentUnix, elapsed, expiresIn int64) {
		sent := time.Unix(sentUnix%(1<<40), 0)
		now := sent.Add(time.Duration(elapsed%3600) * time.Second)
		expiry, err := Expiry(sent, now, expiresIn)
		if err != nil {
			return
		}
		if expiresIn <= 0 {
			t.Fatalf("expiresIn %d accepted", expiresIn)
		}
		if !expiry.After(now) {
			t.Fatalf("expiry %v is not after now %v", expiry, now)
		}
		if !expiry.Equal(expiry.Truncate(time.Second)) {
			t.Fatalf("expiry %v is not truncated to the second", expiry)
		}
		next := NextRefresh(sent, expiry, 0, "uid")
		if next.After(expiry) || next.Before(sent) {
			t.Fatalf("next refresh %v outside [%v, %v]", next, sent, expiry)
		}
	})
}

func FuzzBackoff(f *testing.F) {
	f.Add(int32(1), "uid", false)
	f.Add(int32(-5), "", true)
	f.Add(int32(1<<30), "x", false)
	f.Fuzz(func(t *testing.T, attempts int32, seed string, rejected bool) {
		kind := Transient
		if rejected {
			kind = Rejected
		}
		d := Backoff(kind, attempts, seed)
		bounds := backoffBounds[kind]
		if d <= 0 || d > bounds.max || d < bounds.first*9/10 {
			t.Fatalf("Backoff(%v, %d) = %v outside [%v, %v]", kind, attempts, d, bounds.first*9/10, bounds.max)
		}
	})
}
