package main

import (
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// verdict is the line kubectl figmatoken status ends with: the state, the reason that
// decides it, and what to do next. Stalled outranks Ready (a person must act even while
// the token still works), then Ready=False, then Reconciling (retries are under way).
func verdict(ft *figmav1alpha1.FigmaToken, now time.Time) string {
	conditions := ft.Status.Conditions
	ready := find(conditions, figmav1alpha1.ConditionReady)
	stalled := holding(conditions, figmav1alpha1.ConditionStalled)
	reconciling := holding(conditions, figmav1alpha1.ConditionReconciling)
	var line string
	switch {
	case ready == nil:
		line = fmt.Sprintf("Unknown: no manager has reconciled this FigmaToken yet. If this lasts, check that the operator runs and watches namespace %s (--watch-namespace, --watch-label-selector).", ft.Namespace)
	case stalled != nil:
		line = fmt.Sprintf("Stalled (%s)%s: %s", stalled.Reason, stillValid(ready, ft, now), advice(stalled.Reason, ft))
	case ready.Status != metav1.ConditionTrue:
		line = fmt.Sprintf("Not Ready (%s): %s", ready.Reason, advice(ready.Reason, ft))
	case reconciling != nil:
		line = fmt.Sprintf("Retrying (%s)%s: %s", reconciling.Reason, stillValid(ready, ft, now), advice(reconciling.Reason, ft))
	default:
		line = fmt.Sprintf("Ready: the token expires %s, next refresh %s. Nothing to do.",
			relative(ft.Status.ExpiresAt, now), relative(ft.Status.NextRefreshTime, now))
	}
	if ft.Status.ObservedGeneration < ft.Generation && ready != nil {
		line += fmt.Sprintf(" The manager has not yet acted on the latest spec (generation %d, observed %d).", ft.Generation, ft.Status.ObservedGeneration)
	}
	if requestPending(ft) {
		line += fmt.Sprintf(" A refresh requested at %s is not handled yet.", ft.Annotations[figmav1alpha1.AnnotationRefreshRequestedAt])
	}
	return line
}

// stillValid tells a Stalled or retrying FigmaToken whose consumers still have a token.
func stillValid(ready *metav1.Condition, ft *figmav1alpha1.FigmaToken, now time.Time) string {
	if ready.Status != metav1.ConditionTrue || ft.Status.ExpiresAt == nil {
		return ""
	}
	return ", the current token expires " + relative(ft.Status.ExpiresAt, now)
}

// advice says what to do about a reason, as docs/runbooks.md does, with this FigmaToken's
// names filled in.
func advice(reason string, ft *figmav1alpha1.FigmaToken) string {
	ns, name, source := ft.Namespace, ft.Name, string(ft.Spec.SecretRef.Name)
	written := destination(ft)
	switch reason {
	case figmav1alpha1.ReasonSuspended:
		return fmt.Sprintf(`spec.suspend is true: set it to false to resume refreshes (kubectl patch figmatoken %s -n %s --type merge -p '{"spec":{"suspend":false}}').`, name, ns)
	case figmav1alpha1.ReasonSecretNotFound:
		return fmt.Sprintf("create Secret %s in namespace %s with the refresh token under %q (kubectl create secret generic %s -n %s --from-literal=%s=<the Figma refresh token>), or fix spec.secretRef.name; it is picked up at once.",
			source, ns, refreshTokenKey(ft), source, ns, refreshTokenKey(ft))
	case figmav1alpha1.ReasonSecretConflict:
		return fmt.Sprintf("the Secret belongs to someone else (the condition message says how): hand Secret %s over with kubectl annotate secret %s -n %s %s=%s --overwrite; a target Secret this FigmaToken did not create: delete it or set another spec.target.name.",
			written, written, ns, figmav1alpha1.AnnotationOwner, name)
	case figmav1alpha1.ReasonSecretOverwritten:
		return fmt.Sprintf("another writer keeps replacing the access token in Secret %s (the Warning Event names its field manager): write it to spec.target instead, or stop that writer from managing %q and the %s annotations (docs/gitops.md); the fight ends after 10 quiet minutes.",
			written, accessTokenKey(ft), figmav1alpha1.AnnotationPrefix)
	case figmav1alpha1.ReasonRefreshTokenMissing:
		return fmt.Sprintf("put the refresh token under %q in Secret %s (or an authorization code under %q with %q), or fix spec.secretRef.refreshTokenKey; it is used at once.",
			refreshTokenKey(ft), source, figmav1alpha1.SecretKeyCode, figmav1alpha1.SecretKeyRedirectURI)
	case figmav1alpha1.ReasonOAuthClientNotReady:
		return fmt.Sprintf("the OAuth client spec.clientRef names may not be used (the condition message says why): create it (a FigmaOAuthClient in namespace %s) or its Secret, or have the platform team admit namespace %s to the ClusterFigmaOAuthClient; it is re-checked at once. Nothing was sent upstream.", ns, ns)
	case figmav1alpha1.ReasonOAuthClientRejected:
		return "Figma refused the OAuth client's ID or secret (invalid_client): correct the client's clientId or the client secret in its Secret; it is retried at once when either changes."
	case figmav1alpha1.ReasonAWSAccessDenied:
		return "AWS refused the operator's credentials: grant its IAM identity amplifyuibuilder:RefreshToken (and amplifyuibuilder:ExchangeCodeForToken for authorization codes) and check IRSA or Pod Identity; retries continue, so it recovers within 5 minutes of the fix."
	case figmav1alpha1.ReasonRefreshRejected:
		return fmt.Sprintf("Figma refused the refresh token (revoked, expired, or issued to another OAuth client): re-consent in Figma, then put a new refresh token or authorization code in Secret %s; it is used at once (docs/figma-oauth.md).", source)
	case figmav1alpha1.ReasonRefreshFailed:
		return "a transient failure (throttling, 5xx, timeout, network), retried with backoff from 5s doubling to 5m; the token in the Secret is kept. If it lasts, the condition message's AWS error code and request ID say why."
	case figmav1alpha1.ReasonSecretWriteFailed:
		return fmt.Sprintf("a new token was obtained but writing Secret %s failed; it is kept and written by the next attempt without another upstream call. Fix what refuses the write (the condition message names the API error).", written)
	case figmav1alpha1.ReasonExpired:
		return fmt.Sprintf("the token lapsed without a refresh: check that the operator's manager runs (its Pods and logs), then kubectl figmatoken renew %s -n %s.", name, ns)
	case figmav1alpha1.ReasonPending:
		return "waiting for the first refresh, which takes seconds; if it stays, read the Events and the manager's log."
	default:
		return "read the condition messages and docs/runbooks.md."
	}
}

// destination is the Secret the access token is written to: the target when set.
func destination(ft *figmav1alpha1.FigmaToken) string {
	if ft.Spec.Target != nil {
		return string(ft.Spec.Target.Name)
	}
	return string(ft.Spec.SecretRef.Name)
}

func refreshTokenKey(ft *figmav1alpha1.FigmaToken) string {
	return orDefault(string(ft.Spec.SecretRef.RefreshTokenKey), "refreshToken")
}

func accessTokenKey(ft *figmav1alpha1.FigmaToken) string {
	return orDefault(string(ft.Spec.SecretRef.AccessTokenKey), "accessToken")
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

// requestPending reports whether refresh-requested-at holds a value the manager has not
// acted on yet.
func requestPending(ft *figmav1alpha1.FigmaToken) bool {
	v := ft.Annotations[figmav1alpha1.AnnotationRefreshRequestedAt]
	return v != "" && v != ft.Status.LastHandledRefreshRequest
}

func find(conditions []metav1.Condition, conditionType string) *metav1.Condition {
	return meta.FindStatusCondition(conditions, conditionType)
}

// holding is the condition of that type when it is True, else nil.
func holding(conditions []metav1.Condition, conditionType string) *metav1.Condition {
	if c := find(conditions, conditionType); c != nil && c.Status == metav1.ConditionTrue {
		return c
	}
	return nil
}
