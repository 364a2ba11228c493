// Package schedule holds the timing rules: when a token expires, when to refresh it
// and how long to wait after a failure. Everything here is pure; time is passed in.
package schedule

import (
	"errors"
	"fmt"
	"time"
)

// absoluteExpiresInThreshold: an expiresIn above it is a Unix time, not a number of seconds.
const absoluteExpiresInThreshold = 1_000_000_000

// maxLifetime bounds a sane expiry: a token said to last longer than this is a broken
// answer, and time arithmetic on it could overflow.
const maxLifetime = 100 * 365 * 24 * time.Hour

// ErrUnusableExpiry means the upstream answer cannot be turned into an expiry in the future.
var ErrUnusableExpiry = errors.New("unusable expiresIn")

// Expiry turns an upstream expiresIn into an absolute expiry, truncated to the second.
// expiresIn counts seconds from sentAt, when the request was sent (OAuth's meaning);
// a value above 1,000,000,000 is read as a Unix time. The expiry must be after now and
// within maxLifetime of it.
func Expiry(sentAt, now time.Time, expiresIn int64) (time.Time, error) {
	if expiresIn <= 0 {
		return time.Time{}, fmt.Errorf("%w: %d is not positive", ErrUnusableExpiry, expiresIn)
	}
	var expiry time.Time
	if expiresIn > absoluteExpiresInThreshold {
		expiry = time.Unix(expiresIn, 0).UTC()
	} else {
		expiry = sentAt.Add(time.Duration(expiresIn) * time.Second).UTC().Truncate(time.Second)
	}
	if !expiry.After(now) {
		return time.Time{}, fmt.Errorf("%w: expiry %s is not in the future", ErrUnusableExpiry, expiry.Format(time.RFC3339))
	}
	if expiry.After(now.Add(maxLifetime)) {
		return time.Time{}, fmt.Errorf("%w: %d is out of range", ErrUnusableExpiry, expiresIn)
	}
	return expiry, nil
}
