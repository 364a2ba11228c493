package figma

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxRetryAfter caps how long a Retry-After header may hold a FigmaToken back: a day, so
// that a mistaken header cannot stop refreshes for good.
const MaxRetryAfter = 24 * time.Hour

// RetryAfter reads a Retry-After header (RFC 9110 10.2.3: delay-seconds or an HTTP date) as
// the time the next request is allowed, counted from now (when the answer arrived), rounded
// up to the second and capped at MaxRetryAfter; zero for none or an unreadable value.
func RetryAfter(header string, now time.Time) time.Time {
	header = strings.TrimSpace(header)
	if header == "" {
		return time.Time{}
	}
	var wait time.Duration
	if seconds, err := strconv.ParseInt(header, 10, 64); err == nil {
		if seconds < 0 {
			return time.Time{}
		}
		wait = time.Duration(min(seconds, int64(MaxRetryAfter/time.Second))) * time.Second
	} else if at, err := http.ParseTime(header); err == nil {
		wait = at.Sub(now)
	} else {
		return time.Time{}
	}
	if wait <= 0 {
		return time.Time{}
	}
	wait = min(wait, MaxRetryAfter)
	until := now.Add(wait)
	if t := until.Truncate(time.Second); !t.Equal(until) {
		until = t.Add(time.Second)
	}
	return until
}
