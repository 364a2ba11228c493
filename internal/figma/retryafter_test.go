package figma

import (
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 500_000_000, time.UTC)
	tests := []struct {
		header string
		want   time.Time
	}{
		{"", time.Time{}},
		{"0", time.Time{}},
		{"-5", time.Time{}},
		{"soon", time.Time{}},
		{"30", time.Date(2026, 12, 7, 10, 0, 31, 0, time.UTC)}, // rounded up to the second
		{"Mon, 07 Dec 2026 10:05:00 GMT", time.Date(2026, 12, 7, 10, 5, 0, 0, time.UTC)},
		{"Mon, 07 Dec 2026 09:00:00 GMT", time.Time{}},
		{"999999999", now.Add(MaxRetryAfter).Truncate(time.Second).Add(time.Second)},
	}
	for _, tt := range tests {
		if got := RetryAfter(tt.header, now); !got.Equal(tt.want) {
			t.Errorf("RetryAfter(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}
