package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/tokenops/figma-token-operator/internal/tokensecret"
)

func TestStatusShowsKeysOwnershipAndVerdictButNoToken(t *testing.T) {
	const refreshToken, accessToken = "rt-do-not-show-0123456789", "at-do-not-show-abcdefghij"
	ft := figmaToken("Ready=True/Refreshed", "Stalled=True/RefreshRejected")
	ft.UID = "uid-1"
	ft.Status.ExpiresAt, ft.Status.NextRefreshTime = at(3*24*time.Hour), at(time.Hour)
	ft.Status.FailedAttempts, ft.Status.LastFailureTime = 2, at(-3*time.Minute)
	ft.Status.Conditions[1].Message = "Figma refused the refresh token (InvalidParameterException, HTTP 400, request ID r-1)"
	ft.Status.Conditions[1].LastTransitionTime = *at(-5 * time.Minute)

	refreshed := now.Add(-time.Hour)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "figma-credentials"},
		Data: map[string][]byte{"refreshToken": []byte(refreshToken)}}
	tokensecret.Write(secret, tokensecret.Keys{AccessToken: "accessToken"}, accessToken, tokensecret.Record{
		Owner: ft.Name, RefreshedAt: refreshed, ExpiresAt: refreshed.Add(90 * 24 * time.Hour),
		AccessTokenHash: tokensecret.AccessTokenFingerprint(string(ft.UID), accessToken, refreshed),
	})
	target := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "figma-access", OwnerReferences: []metav1.OwnerReference{
		{Kind: "FigmaToken", Name: ft.Name, UID: ft.UID, Controller: ptr.To(true)},
	}}, Data: map[string][]byte{"accessToken": []byte("a value written by someone else")}}

	r := &report{token: ft,
		secrets: []secretReport{
			describeSecret("source and access token", secret, "accessToken", ft),
			describeSecret("target: the access token", target, "accessToken", ft),
			{role: "target", name: "gone", err: errors.New(`secrets "gone" not found`)},
		},
		events: []eventLine{{when: now.Add(-3 * time.Minute), kind: "Warning", reason: "RefreshRejected", count: 2, message: "Figma refused the refresh token"}},
	}
	var out bytes.Buffer
	if err := printReport(&out, r, now); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"Name:               design-system",
		"Stalled   True     RefreshRejected   5m          Figma refused the refresh token (InvalidParameterException, HTTP 400, request ID r-1)",
		"Expires:          2026-11-28T10:00:00Z (in 3d)",
		"Next refresh:     2026-11-25T11:00:00Z (in 60m)",
		"Failed attempts:  2 in a row, the last 2026-11-25T09:57:00Z (3m ago)",
		"Secret figma-credentials (source and access token):",
		"Keys:             accessToken (25 bytes), refreshToken (25 bytes)",
		`Access token:     "accessToken" holds the token this FigmaToken wrote`,
		"Owner:            figma.tokenops.dev/owner=design-system (this FigmaToken)",
		`Access token:     "accessToken" does not hold the token this FigmaToken wrote`,
		"Owner:            ownerReference FigmaToken/design-system (controller) (this FigmaToken)",
		`Error:            secrets "gone" not found`,
		"3m    Warning   RefreshRejected   2       Figma refused the refresh token",
		"Verdict:            Stalled (RefreshRejected), the current token expires in 3d: ",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("status output lacks %q:\n%s", want, got)
		}
	}
	for _, secretValue := range []string{refreshToken, accessToken, "a value written by someone else"} {
		if strings.Contains(got, secretValue) {
			t.Fatalf("status printed a Secret value:\n%s", got)
		}
	}
	if !strings.HasSuffix(got, "\n") || strings.Count(got, "Verdict:") != 1 {
		t.Fatalf("one verdict line at the end:\n%s", got)
	}
}

func TestEventLineReadsBothEventAPIs(t *testing.T) {
	old := metav1.NewTime(now.Add(-time.Hour))
	recent := metav1.NewMicroTime(now.Add(-time.Minute))
	coreEvent := &corev1.Event{Type: "Normal", Reason: "Refreshed", Count: 3, LastTimestamp: old, FirstTimestamp: old}
	if l := newEventLine(coreEvent); !l.when.Equal(old.Time) || l.count != 3 {
		t.Errorf("core/v1 Event: %+v", l)
	}
	// events.k8s.io/v1, read through core/v1: eventTime and series, no timestamps or count.
	newAPI := &corev1.Event{Type: "Warning", Reason: "RefreshFailed", EventTime: recent}
	if l := newEventLine(newAPI); !l.when.Equal(recent.Time) || l.count != 1 {
		t.Errorf("events.k8s.io Event: %+v", l)
	}
	newAPI.Series = &corev1.EventSeries{Count: 4, LastObservedTime: metav1.NewMicroTime(now)}
	if l := newEventLine(newAPI); !l.when.Equal(now) || l.count != 4 {
		t.Errorf("events.k8s.io Event with a series: %+v", l)
	}
}

func TestStatusCountsStaleConsumersOnlyWhenPodsCanBeListed(t *testing.T) {
	ft := figmaToken("Ready=True/Refreshed")
	tests := []struct {
		name         string
		consumers    *consumersReport
		consumersErr error
		want         string // "" for no line
	}{
		{"may not list pods", nil, nil, ""},
		{"none", &consumersReport{FigmaToken: ft.Name, Namespace: "web", Secret: "figma-credentials"}, nil,
			"Consumers:          no container in namespace web uses Secret figma-credentials\n"},
		{"some stale", &consumersReport{FigmaToken: ft.Name, Namespace: "web", Secret: "figma-credentials", Stale: 1,
			Consumers: []consumer{{Pod: "a", Way: wayVolume}, {Pod: "a", Way: wayEnv, Stale: true}, {Pod: "b", Way: waySubPath}}}, nil,
			"Consumers:          3 uses in 2 pods, 1 stale (a token that expires within 24h, not renewed until a restart): kubectl figmatoken consumers design-system -n web\n"},
		{"another error", nil, errors.New("the server is currently unable to handle the request"),
			"Consumers:          cannot list them: the server is currently unable to handle the request\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := printReport(&out, &report{token: ft, consumers: tt.consumers, consumersErr: tt.consumersErr}, now); err != nil {
				t.Fatal(err)
			}
			got := out.String()
			if tt.want == "" && strings.Contains(got, "Consumers:") || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Fatalf("status output, want %q:\n%s", tt.want, got)
			}
		})
	}
}
