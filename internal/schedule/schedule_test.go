package schedule

import (
	"errors"
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func TestExpiry(t *testing.T) {
	sent := t0.Add(300 * time.Millisecond)
	now := sent.Add(2 * time.Second)
	tests := []struct {
		name      string
		expiresIn int64
		want      time.Time
		wantErr   bool
	}{
		{"seconds from the moment the request was sent", 3600, t0.Add(time.Hour), false},
		{"one second is still in the future", 3, t0.Add(3 * time.Second), false},
		{"zero is unusable", 0, time.Time{}, true},
		{"negative is unusable", -5, time.Time{}, true},
		{"already lapsed when the answer arrived", 1, time.Time{}, true},
		{"largest relative value", 1_000_000_000, t0.Add(1_000_000_000 * time.Second), false},
		{"epoch form is an absolute Unix time", t0.Add(2 * time.Hour).Unix(), t0.Add(2 * time.Hour), false},
		{"epoch form in the past is unusable", t0.Add(-time.Hour).Unix(), time.Time{}, true},
		{"beyond int32 is read in full, as a Unix time", 4_294_970_896, time.Unix(4_294_970_896, 0).UTC(), false},
		{"beyond any sane lifetime is unusable", 1 << 62, time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Expiry(sent, now, tt.expiresIn)
			if tt.wantErr {
				if !errors.Is(err, ErrUnusableExpiry) {
					t.Fatalf("Expiry(%d) error = %v, want ErrUnusableExpiry", tt.expiresIn, err)
				}
				return
			}
			if err != nil || !got.Equal(tt.want) {
				t.Fatalf("Expiry(%d) = %v, %v; want %v", tt.expiresIn, got, err, tt.want)
			}
		})
	}
}

func TestNextRefresh(t *testing.T) {
	hour := t0.Add(time.Hour)
	tests := []struct {
		name          string
		expiresAt     time.Time
		refreshBefore time.Duration
		earliest      time.Time // inclusive bounds: the jitter moves the time within them
		latest        time.Time
	}{
		{"default is a third of the lifetime before expiry", hour, 0, hour.Add(-20*time.Minute - 3*time.Minute), hour.Add(-20 * time.Minute)},
		{"refreshBefore from the spec", hour, 10 * time.Minute, hour.Add(-10*time.Minute - 3*time.Minute), hour.Add(-10 * time.Minute)},
		{"refreshBefore as long as the lifetime falls back to half", hour, time.Hour, t0.Add(30 * time.Minute), t0.Add(30 * time.Minute)},
		{"refreshBefore longer than the lifetime falls back to half", hour, 2 * time.Hour, t0.Add(30 * time.Minute), t0.Add(30 * time.Minute)},
		{"short tokens", t0.Add(6 * time.Second), 0, t0.Add(3 * time.Second), t0.Add(4 * time.Second)},
		{"lapsed lifetime refreshes at once", t0, 0, t0, t0},
		{"the largest refreshBefore does not overflow", hour, time.Duration(math.MaxInt64), t0.Add(30 * time.Minute), t0.Add(30 * time.Minute)},
		{"the CRD's largest refreshBefore falls back to half", hour, 8760 * time.Hour, t0.Add(30 * time.Minute), t0.Add(30 * time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NextRefresh(t0, tt.expiresAt, tt.refreshBefore, "3f0e-uid")
			if got.Before(tt.earliest) || got.After(tt.latest) {
				t.Fatalf("NextRefresh = %v, want within [%v, %v]", got, tt.earliest, tt.latest)
			}
			if !got.Equal(got.Truncate(time.Second)) {
				t.Fatalf("NextRefresh = %v is not truncated to the second", got)
			}
		})
	}
}

func TestNextRefreshJitterIsDeterministicPerUID(t *testing.T) {
	expiry := t0.Add(time.Hour)
	a1 := NextRefresh(t0, expiry, 0, "uid-a")
	a2 := NextRefresh(t0, expiry, 0, "uid-a")
	if !a1.Equal(a2) {
		t.Fatalf("same UID gave %v and %v", a1, a2)
	}
	distinct := map[time.Time]bool{}
	for _, uid := range []string{"uid-a", "uid-b", "uid-c", "uid-d", "uid-e", "uid-f"} {
		distinct[NextRefresh(t0, expiry, 0, uid)] = true
	}
	if len(distinct) < 3 {
		t.Fatalf("six UIDs share %d refresh times; jitter does not spread them", len(distinct))
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		name     string
		kind     Failure
		attempts int32
		max      time.Duration // the delay without jitter; jitter takes at most 10% off
	}{
		{"transient first retry after 5s", Transient, 1, 5 * time.Second},
		{"transient doubles", Transient, 2, 10 * time.Second},
		{"transient doubles again", Transient, 4, 40 * time.Second},
		{"transient caps at 5 minutes", Transient, 7, 5 * time.Minute},
		{"transient stays capped for very long failures", Transient, 1000, 5 * time.Minute},
		{"zero attempts is treated as the first", Transient, 0, 5 * time.Second},
		{"rejected starts at a minute", Rejected, 1, time.Minute},
		{"rejected doubles", Rejected, 3, 4 * time.Minute},
		{"rejected caps at an hour", Rejected, 10, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Backoff(tt.kind, tt.attempts, "uid")
			if got > tt.max || got < tt.max*9/10 {
				t.Fatalf("Backoff = %v, want within [%v, %v]", got, tt.max*9/10, tt.max)
			}
			if again := Backoff(tt.kind, tt.attempts, "uid"); again != got {
				t.Fatalf("Backoff is not deterministic: %v then %v", got, again)
			}
		})
	}
}
