package main

import (
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

// relative says when t is from now as kubectl says ages: "in 59d", "3m ago", "now"
// (within a second), "never" for no time.
func relative(t *metav1.Time, now time.Time) string {
	if t == nil || t.IsZero() {
		return "never"
	}
	d := t.Sub(now)
	switch {
	case d >= time.Second:
		return "in " + duration.HumanDuration(d)
	case d <= -time.Second:
		return duration.HumanDuration(-d) + " ago"
	default:
		return "now"
	}
}

// timeLeft is the EXPIRES column: the time until the token expires ("59d"), "expired", or
// "<none>" without a token.
func timeLeft(expiresAt *metav1.Time, now time.Time) string { return until(expiresAt, now, "expired") }

// timeUntil is the NEXT-REFRESH column: "39d" from now, "due" once passed, "<none>".
func timeUntil(t *metav1.Time, now time.Time) string { return until(t, now, "due") }

// until is the time from now to t, passed once it has come, "<none>" without t.
func until(t *metav1.Time, now time.Time, passed string) string {
	if t == nil || t.IsZero() {
		return "<none>"
	}
	if !t.After(now) {
		return passed
	}
	return duration.HumanDuration(t.Sub(now))
}

// age is the AGE column, as kubectl prints it.
func age(created metav1.Time, now time.Time) string {
	if created.IsZero() {
		return "<unknown>"
	}
	d := now.Sub(created.Time)
	if d < 0 {
		d = 0
	}
	return duration.HumanDuration(d)
}

// stamp is an absolute time with its relative one: "2026-11-25T11:00:00Z (in 59d)".
func stamp(t *metav1.Time, now time.Time) string {
	if t == nil || t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339) + " (" + relative(t, now) + ")"
}

// shortDuration is a Go duration without its zero tails: "24h", "1h30m", "10m".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
