package main

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/tokensecret"
)

// report is what kubectl figmatoken status shows: the FigmaToken, what its Secrets say
// without their values, and its recent Events. It holds no Secret data, so no token can
// reach the output.
type report struct {
	token *figmav1alpha1.FigmaToken
	// client is the OAuth client spec.clientRef names; nil without one.
	client  *clientReport
	secrets []secretReport
	events  []eventLine
	// eventsErr is why the Events could not be listed (e.g. forbidden); the rest is shown.
	eventsErr error
	// consumers are the pods that use the token, nil when the user may not list pods (the
	// line is left out); consumersErr is why they could not be listed otherwise.
	consumers    *consumersReport
	consumersErr error
}

// secretReport is one Secret of a FigmaToken: the source (refresh token) or the target
// (access token), as far as it may be shown.
type secretReport struct {
	role string
	name string
	// err is why the Secret could not be read (not found, forbidden).
	err       error
	keys      []tokensecret.KeySize
	immutable bool
	record    tokensecret.Record
	ownerRefs []metav1.OwnerReference
	// holdsKey is the key the access token is written to; holds says whether it holds the
	// token this FigmaToken wrote (its fingerprint matches the record). Empty for a source
	// Secret whose access token goes to a target.
	holdsKey string
	holds    bool
}

// describeSecret reads what may be shown of a Secret: key names and lengths, the
// operator's annotations, ownership, and whether the access token key holds this
// FigmaToken's token (compared by fingerprint, never shown).
func describeSecret(role string, secret *corev1.Secret, accessKey string, ft *figmav1alpha1.FigmaToken) secretReport {
	r := secretReport{
		role: role, name: secret.Name,
		keys:      tokensecret.KeySizes(secret),
		immutable: secret.Immutable != nil && *secret.Immutable,
		record:    tokensecret.ReadRecord(secret.Annotations),
		ownerRefs: secret.OwnerReferences,
	}
	if accessKey != "" {
		r.holdsKey = accessKey
		r.holds = tokensecret.Holds(secret, accessKey, string(ft.UID), r.record)
	}
	return r
}

// eventLine is one Event regarding the FigmaToken.
type eventLine struct {
	when    time.Time
	kind    string
	reason  string
	count   int32
	message string
}

// newEventLine reads an Event of either API (core/v1 or events.k8s.io/v1, which the
// manager records with): the last time it happened and how often.
func newEventLine(e *corev1.Event) eventLine {
	l := eventLine{kind: e.Type, reason: e.Reason, count: e.Count, message: e.Message}
	switch {
	case e.Series != nil:
		l.when, l.count = e.Series.LastObservedTime.Time, e.Series.Count
	case !e.LastTimestamp.IsZero():
		l.when = e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		l.when = e.EventTime.Time
	case !e.FirstTimestamp.IsZero():
		l.when = e.FirstTimestamp.Time
	default:
		l.when = e.CreationTimestamp.Time
	}
	if l.count < 1 {
		l.count = 1
	}
	return l
}
