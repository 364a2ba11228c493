package schedule

import (
	"strconv"
	"time"
)

// Failure is the kind of a failed refresh, which picks its retry schedule.
type Failure int

const (
	// Transient failures (5xx, throttling, timeouts, network, AWS access) retry quickly.
	Transient Failure = iota
	// Rejected refreshes (the refresh token is bad) retry slowly; a person must act.
	Rejected
)

// backoffBounds are the first delay and the cap of each schedule.
var backoffBounds = map[Failure]struct{ first, max time.Duration }{
	Transient: {5 * time.Second, 5 * time.Minute},
	Rejected:  {time.Minute, time.Hour},
}

// maxBackoffJitterFraction: each delay is shortened by up to 10%, so tokens that failed
// together do not retry together.
const maxBackoffJitterFraction = 0.1

// FirstBackoff is the longest wait after a first failure of kind (Backoff's jitter only
// shortens it).
func FirstBackoff(kind Failure) time.Duration { return backoffBounds[kind].first }

// Backoff is how long to wait after the failedAttempts-th consecutive failure: the first
// delay doubled per further failure, capped, less a deterministic jitter from seed.
// It depends only on values kept in status, so a restarted operator keeps the schedule.
func Backoff(kind Failure, failedAttempts int32, seed string) time.Duration {
	bounds := backoffBounds[kind]
	if failedAttempts < 1 {
		failedAttempts = 1
	}
	delay := bounds.first
	for i := int32(1); i < failedAttempts && delay < bounds.max; i++ {
		delay *= 2 // stops at the cap long before it could overflow
	}
	delay = min(delay, bounds.max)
	jitter := float64(delay) * maxBackoffJitterFraction * unitFraction(seed+"/"+strconv.Itoa(int(failedAttempts)))
	return delay - time.Duration(jitter)
}
