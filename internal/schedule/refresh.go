package schedule

import (
	"crypto/sha256"
	"encoding/binary"
	"time"
)

// maxJitterFraction bounds the jitter to 5% of the token's lifetime.
const maxJitterFraction = 0.05

// NextRefresh is when a token obtained at refreshedAt and expiring at expiresAt should be
// refreshed: expiresAt − refreshBefore (default: a third of the lifetime), earlier by a
// deterministic jitter of up to 5% of the lifetime derived from seed (the FigmaToken's
// UID), truncated to the second. When refreshBefore plus jitter would leave no time, it
// refreshes at half the lifetime without jitter.
func NextRefresh(refreshedAt, expiresAt time.Time, refreshBefore time.Duration, seed string) time.Time {
	lifetime := expiresAt.Sub(refreshedAt)
	if lifetime <= 0 {
		return refreshedAt
	}
	if refreshBefore <= 0 {
		refreshBefore = lifetime / 3
	}
	jitter := time.Duration(float64(lifetime) * maxJitterFraction * unitFraction(seed))
	// Compared without adding, so a huge refreshBefore cannot overflow.
	if refreshBefore >= lifetime-jitter {
		return refreshedAt.Add(lifetime / 2).Truncate(time.Second)
	}
	return expiresAt.Add(-refreshBefore - jitter).Truncate(time.Second)
}

// WithInterval is next, or refreshedAt + interval when that comes first: with
// spec.refreshInterval a token is refreshed at least that often. interval <= 0 is none.
func WithInterval(next, refreshedAt time.Time, interval time.Duration) time.Time {
	if interval <= 0 {
		return next
	}
	if byInterval := refreshedAt.Add(interval).Truncate(time.Second); byInterval.Before(next) {
		return byInterval
	}
	return next
}

// unitFraction maps a seed to a stable number in [0, 1).
func unitFraction(seed string) float64 {
	sum := sha256.Sum256([]byte(seed))
	return float64(binary.BigEndian.Uint64(sum[:8])>>11) / float64(1<<53)
}
