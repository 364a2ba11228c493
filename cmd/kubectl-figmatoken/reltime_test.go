package main

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var now = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func at(d time.Duration) *metav1.Time { t := metav1.NewTime(now.Add(d)); return &t }

func TestRelativeTimes(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name    string
		t       *metav1.Time
		rel     string
		left    string
		until   string
		stamped string
	}{
		{"none", nil, "never", "<none>", "<none>", "never"},
		{"59 days ahead", at(59*day + time.Hour), "in 59d", "59d", "59d", "2027-01-23T11:00:00Z (in 59d)"},
		{"3 minutes ago", at(-3 * time.Minute), "3m ago", "expired", "due", "2026-11-25T09:57:00Z (3m ago)"},
		{"90 seconds ahead", at(90 * time.Second), "in 90s", "90s", "90s", "2026-11-25T10:01:30Z (in 90s)"},
		{"5 hours 20 minutes ahead", at(5*time.Hour + 20*time.Minute), "in 5h20m", "5h20m", "5h20m", "2026-11-25T15:20:00Z (in 5h20m)"},
		{"this second", at(300 * time.Millisecond), "now", "0s", "0s", "2026-11-25T10:00:00Z (now)"},
		{"exactly now", at(0), "now", "expired", "due", "2026-11-25T10:00:00Z (now)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := relative(tt.t, now); got != tt.rel {
				t.Errorf("relative = %q, want %q", got, tt.rel)
			}
			if got := timeLeft(tt.t, now); got != tt.left {
				t.Errorf("timeLeft = %q, want %q", got, tt.left)
			}
			if got := timeUntil(tt.t, now); got != tt.until {
				t.Errorf("timeUntil = %q, want %q", got, tt.until)
			}
			if got := stamp(tt.t, now); got != tt.stamped {
				t.Errorf("stamp = %q, want %q", got, tt.stamped)
			}
		})
	}
}

func TestAge(t *testing.T) {
	if got := age(*at(-26 * time.Hour), now); got != "26h" {
		t.Errorf("age = %q, want 26h", got)
	}
	if got := age(metav1.Time{}, now); got != "<unknown>" {
		t.Errorf("age of no time = %q", got)
	}
}
