package main

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// clientReport is the OAuth client a FigmaToken refreshes through, as far as the user may
// read it: its upstream and Ready condition (never its Secret).
type clientReport struct {
	upstream string
	ready    string // "True", or "False (REASON: message)"
	err      error
}

// oauthClient reads the client spec.clientRef names; nil without a clientRef.
func (s *session) oauthClient(ctx context.Context, ft *figmav1alpha1.FigmaToken) *clientReport {
	ref := ft.Spec.ClientRef
	if ref == nil {
		return nil
	}
	var status figmav1alpha1.OAuthClientStatus
	var err error
	if clientKind(ref) == figmav1alpha1.KindClusterFigmaOAuthClient {
		c := &figmav1alpha1.ClusterFigmaOAuthClient{}
		err = s.client.Get(ctx, client.ObjectKey{Name: string(ref.Name)}, c)
		status = c.Status
	} else {
		c := &figmav1alpha1.FigmaOAuthClient{}
		err = s.client.Get(ctx, client.ObjectKey{Namespace: ft.Namespace, Name: string(ref.Name)}, c)
		status = c.Status
	}
	if err != nil {
		return &clientReport{err: err}
	}
	r := &clientReport{upstream: status.Upstream, ready: "unknown (no manager has checked it)"}
	if c := meta.FindStatusCondition(status.Conditions, figmav1alpha1.ConditionReady); c != nil {
		r.ready = string(c.Status)
		if c.Status != "True" {
			r.ready += fmt.Sprintf(" (%s: %s)", c.Reason, c.Message)
		}
	}
	return r
}

// clientKind is clientRef's kind, FigmaOAuthClient when unset.
func clientKind(ref *figmav1alpha1.ClientRef) string {
	if ref.Kind == "" {
		return figmav1alpha1.KindFigmaOAuthClient
	}
	return ref.Kind
}

// clientColumn is the CLIENT column of get: KIND/NAME, or "-" for the Amplify upstream with
// the operator's own identity.
func clientColumn(ft *figmav1alpha1.FigmaToken) string {
	if ft.Spec.ClientRef == nil {
		return "-"
	}
	return clientKind(ft.Spec.ClientRef) + "/" + string(ft.Spec.ClientRef.Name)
}

// clientSummary is the Client field of status: which client and upstream the FigmaToken
// refreshes through, and whether the client is ready.
func clientSummary(ft *figmav1alpha1.FigmaToken, r *clientReport) string {
	ref := ft.Spec.ClientRef
	if ref == nil {
		s := "none: the Amplify upstream, signed with the operator's own AWS identity"
		if ft.Spec.ClientID != "" {
			s += ", clientId " + ft.Spec.ClientID
		}
		return s
	}
	s := clientKind(ref) + " " + string(ref.Name)
	switch {
	case r == nil:
	case apierrors.IsNotFound(r.err):
		s += ": not found"
	case r.err != nil:
		s += ": cannot be read (" + string(apierrors.ReasonForError(r.err)) + ")"
	default:
		if r.upstream != "" {
			s += ", the " + r.upstream + " upstream"
		}
		s += ", Ready " + r.ready
	}
	return s
}

// oauthApp is what connect needs of an OAuth client: its client ID, and whether the
// operator exchanges codes at Figma's own endpoint, which sends a PKCE verifier (the
// Amplify upstream's exchange has no field for one).
type oauthApp struct {
	clientID string
	figma    bool
}

// readApp reads the client ref names, in the session's namespace for a FigmaOAuthClient.
// A client that a manager found not Ready is refused before the consent: its code could
// not be exchanged.
func (s *session) readApp(ctx context.Context, ref figmav1alpha1.ClientRef) (oauthApp, error) {
	var spec figmav1alpha1.OAuthClientSpec
	var status figmav1alpha1.OAuthClientStatus
	var err error
	where := " in namespace " + s.namespace
	if clientKind(&ref) == figmav1alpha1.KindClusterFigmaOAuthClient {
		c := &figmav1alpha1.ClusterFigmaOAuthClient{}
		err = s.client.Get(ctx, client.ObjectKey{Name: string(ref.Name)}, c)
		spec, status, where = c.Spec.OAuthClientSpec, c.Status, ""
	} else {
		c := &figmav1alpha1.FigmaOAuthClient{}
		err = s.client.Get(ctx, client.ObjectKey{Namespace: s.namespace, Name: string(ref.Name)}, c)
		spec, status = c.Spec, c.Status
	}
	switch {
	case apierrors.IsNotFound(err):
		return oauthApp{}, fmt.Errorf("%s %s not found%s: create it (docs/figma-oauth.md), or name another with --client", clientKind(&ref), ref.Name, where)
	case err != nil:
		return oauthApp{}, err
	}
	if c := meta.FindStatusCondition(status.Conditions, figmav1alpha1.ConditionReady); c != nil && c.Status == "False" {
		return oauthApp{}, fmt.Errorf("%s %s is not Ready (%s: %s): fix it first, or the operator cannot exchange the code", clientKind(&ref), ref.Name, c.Reason, c.Message)
	}
	return oauthApp{clientID: spec.ClientID, figma: spec.Figma != nil}, nil
}
