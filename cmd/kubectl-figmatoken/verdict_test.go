package main

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// figmaToken is a FigmaToken "design-system" in "web" with the given conditions, each
// "Type=Status/Reason".
func figmaToken(conditions ...string) *figmav1alpha1.FigmaToken {
	ft := &figmav1alpha1.FigmaToken{
		ObjectMeta: metav1.ObjectMeta{Name: "design-system", Namespace: "web", Generation: 1, CreationTimestamp: metav1.NewTime(now.Add(-time.Hour))},
		Spec:       figmav1alpha1.FigmaTokenSpec{SecretRef: figmav1alpha1.SecretRef{Name: "figma-credentials"}},
	}
	ft.Status.ObservedGeneration = 1
	for _, c := range conditions {
		typ, rest, _ := strings.Cut(c, "=")
		status, reason, _ := strings.Cut(rest, "/")
		ft.Status.Conditions = append(ft.Status.Conditions, metav1.Condition{Type: typ, Status: metav1.ConditionStatus(status), Reason: reason})
	}
	return ft
}

func TestVerdictSaysWhatToDoNext(t *testing.T) {
	day := 24 * time.Hour
	valid := func(ft *figmav1alpha1.FigmaToken) {
		ft.Status.ExpiresAt, ft.Status.NextRefreshTime = at(59*day+time.Hour), at(39*day+time.Hour)
	}
	tests := []struct {
		name  string
		ft    *figmav1alpha1.FigmaToken
		setup func(*figmav1alpha1.FigmaToken)
		want  []string
	}{
		{"ready", figmaToken("Ready=True/Refreshed"), valid,
			[]string{"Ready: the token expires in 59d, next refresh in 39d. Nothing to do."}},
		{"no status", figmaToken(), nil,
			[]string{"Unknown: no manager has reconciled", "watches namespace web"}},
		{"rejected while the token still works", figmaToken("Ready=True/Refreshed", "Stalled=True/RefreshRejected"), valid,
			[]string{"Stalled (RefreshRejected), the current token expires in 59d: ", "re-consent in Figma", "new refresh token or authorization code in Secret figma-credentials"}},
		{"rejected and expired", figmaToken("Ready=False/RefreshRejected", "Stalled=True/RefreshRejected"), nil,
			[]string{"Stalled (RefreshRejected): Figma refused the refresh token"}},
		{"AWS access denied", figmaToken("Ready=False/AWSAccessDenied", "Stalled=True/AWSAccessDenied"), nil,
			[]string{"Stalled (AWSAccessDenied): ", "amplifyuibuilder:RefreshToken"}},
		{"Secret not found", figmaToken("Ready=False/SecretNotFound", "Stalled=True/SecretNotFound"), nil,
			[]string{"create Secret figma-credentials in namespace web", "--from-literal=refreshToken=<the Figma refresh token>"}},
		{"refresh token missing under a custom key", figmaToken("Ready=False/RefreshTokenMissing", "Stalled=True/RefreshTokenMissing"),
			func(ft *figmav1alpha1.FigmaToken) { ft.Spec.SecretRef.RefreshTokenKey = "figma-rt" },
			[]string{`put the refresh token under "figma-rt" in Secret figma-credentials`}},
		{"conflict on a target", figmaToken("Ready=False/SecretConflict", "Stalled=True/SecretConflict"),
			func(ft *figmav1alpha1.FigmaToken) { ft.Spec.Target = &figmav1alpha1.TargetSecret{Name: "figma-access"} },
			[]string{"kubectl annotate secret figma-access -n web figma.tokenops.dev/owner=design-system --overwrite"}},
		{"a fight with another writer", figmaToken("Ready=False/SecretOverwritten", "Stalled=True/SecretOverwritten"), nil,
			[]string{"Stalled (SecretOverwritten)", "spec.target", `"accessToken"`}},
		{"retrying a transient failure", figmaToken("Ready=True/Refreshed", "Reconciling=True/RefreshFailed"), valid,
			[]string{"Retrying (RefreshFailed), the current token expires in 59d: a transient failure"}},
		{"a failed write", figmaToken("Ready=True/Refreshed", "Reconciling=True/SecretWriteFailed"), valid,
			[]string{"Retrying (SecretWriteFailed)", "writing Secret figma-credentials failed"}},
		{"expired", figmaToken("Ready=False/Expired"), nil,
			[]string{"Not Ready (Expired): ", "kubectl figmatoken renew design-system -n web"}},
		{"suspended", figmaToken("Ready=False/Suspended"), nil,
			[]string{"Not Ready (Suspended): spec.suspend is true", `"suspend":false`}},
		{"pending", figmaToken("Ready=False/Pending"), nil,
			[]string{"Not Ready (Pending): waiting for the first refresh"}},
		{"a request not handled yet", figmaToken("Ready=True/Refreshed"), func(ft *figmav1alpha1.FigmaToken) {
			valid(ft)
			ft.Annotations = map[string]string{figmav1alpha1.AnnotationRefreshRequestedAt: "2026-11-25T09:59:00Z"}
		}, []string{"Nothing to do. A refresh requested at 2026-11-25T09:59:00Z is not handled yet."}},
		{"a spec not yet observed", figmaToken("Ready=True/Refreshed"), func(ft *figmav1alpha1.FigmaToken) { valid(ft); ft.Generation = 2 },
			[]string{"not yet acted on the latest spec (generation 2, observed 1)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup(tt.ft)
			}
			got := verdict(tt.ft, now)
			for _, want := range tt.want {
				if !strings.Contains(got, want) {
					t.Errorf("verdict = %q\nwant it to contain %q", got, want)
				}
			}
			if strings.Contains(got, "\n") {
				t.Errorf("verdict spans lines: %q", got)
			}
		})
	}
}

// Every reason a condition can carry has its own advice, so a new reason cannot fall
// through to the generic line unnoticed.
func TestEveryReasonHasAdvice(t *testing.T) {
	generic := advice("NoSuchReason", figmaToken())
	for _, reason := range []string{
		figmav1alpha1.ReasonSuspended, figmav1alpha1.ReasonSecretNotFound, figmav1alpha1.ReasonSecretConflict,
		figmav1alpha1.ReasonSecretOverwritten, figmav1alpha1.ReasonRefreshTokenMissing, figmav1alpha1.ReasonOAuthClientNotReady,
		figmav1alpha1.ReasonOAuthClientRejected, figmav1alpha1.ReasonAWSAccessDenied,
		figmav1alpha1.ReasonRefreshRejected, figmav1alpha1.ReasonRefreshFailed, figmav1alpha1.ReasonExpired,
		figmav1alpha1.ReasonPending, figmav1alpha1.ReasonSecretWriteFailed,
	} {
		if advice(reason, figmaToken()) == generic {
			t.Errorf("no advice for %s", reason)
		}
	}
}
