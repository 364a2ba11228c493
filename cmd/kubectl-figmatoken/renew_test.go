package main

import (
	"strings"
	"testing"
	"time"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

func TestRequestValueIsNewEachTime(t *testing.T) {
	ft := figmaToken("Ready=True/Refreshed")
	if got := requestValue(ft, now.Add(300*time.Millisecond)); got != "2026-11-25T10:00:00Z" {
		t.Fatalf("requestValue = %q, want RFC 3339 seconds", got)
	}
	// A renew within the same second as the last one still asks for a refresh.
	ft.Annotations = map[string]string{figmav1alpha1.AnnotationRefreshRequestedAt: "2026-11-25T10:00:00Z"}
	if got := requestValue(ft, now.Add(300*time.Millisecond)); got != "2026-11-25T10:00:00.3Z" {
		t.Fatalf("requestValue = %q, want a finer value", got)
	}
}

func TestJudgeReadsTheOutcomeOfOneRequest(t *testing.T) {
	const value = "2026-11-25T10:00:00Z"
	handled := func(ft *figmav1alpha1.FigmaToken, attempts int32) *figmav1alpha1.FigmaToken {
		ft.Status.LastHandledRefreshRequest, ft.Status.FailedAttempts = value, attempts
		ft.Status.ExpiresAt = at(90 * 24 * time.Hour)
		for i := range ft.Status.Conditions {
			ft.Status.Conditions[i].Message = "message of " + ft.Status.Conditions[i].Type + "."
		}
		return ft
	}
	tests := []struct {
		name            string
		ft              *figmav1alpha1.FigmaToken
		done, succeeded bool
		line            string
	}{
		{"not handled yet", figmaToken("Ready=True/Refreshed"), false, false, ""},
		{"refreshed", handled(figmaToken("Ready=True/Refreshed"), 0), true, true,
			"refreshed: Ready=True Refreshed: message of Ready; the token expires in 90d"},
		{"rejected", handled(figmaToken("Ready=True/Refreshed", "Stalled=True/RefreshRejected"), 1), true, false,
			"refresh failed (1 in a row): RefreshRejected: message of Stalled."},
		{"retrying", handled(figmaToken("Ready=True/Refreshed", "Reconciling=True/RefreshFailed"), 3), true, false,
			"refresh failed (3 in a row): RefreshFailed: message of Reconciling."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done, succeeded, line := judge(tt.ft, value, now)
			if done != tt.done || succeeded != tt.succeeded || line != tt.line {
				t.Fatalf("judge = %v, %v, %q; want %v, %v, %q", done, succeeded, line, tt.done, tt.succeeded, tt.line)
			}
		})
	}
}

func TestRenewNeedsExactlyOneWayToChoose(t *testing.T) {
	tests := []struct {
		name  string
		ro    renewOptions
		names []string
		err   string
	}{
		{"a name", renewOptions{timeout: time.Minute}, []string{"a"}, ""},
		{"a selector in every namespace", renewOptions{selector: "team=x", allNamespaces: true, timeout: time.Minute}, nil, ""},
		{"--all", renewOptions{all: true, timeout: time.Minute}, nil, ""},
		{"nothing", renewOptions{timeout: time.Minute}, nil, "NAME..., -l SELECTOR or --all"},
		{"a name and --all", renewOptions{all: true, timeout: time.Minute}, []string{"a"}, "one of them"},
		{"-A with a name", renewOptions{allNamespaces: true, timeout: time.Minute}, []string{"a"}, "-A goes with -l or --all"},
		{"no timeout", renewOptions{all: true}, nil, "--timeout must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.ro.validate(tt.names)
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("validate = %v, want %q", err, tt.err)
			}
		})
	}
}
