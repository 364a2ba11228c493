package main

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// recentEvents is how many Events status shows, the newest.
const recentEvents = 10

// staleWithin is the --within of consumers that status counts stale consumers with.
const staleWithin = 24 * time.Hour

func newStatusCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "status NAME",
		Short: "Explain a FigmaToken: conditions, expiry, failures, its Secrets, Events and what to do",
		Long: `Show one FigmaToken: its conditions with reasons and messages; when the token expires and
is refreshed next, as times and relative to now ("in 59d", "3m ago"); the failure streak
(status.failedAttempts, lastFailureTime); the OAuth client and upstream it refreshes
through, and whether the client is Ready; the pending or handled refresh request; each
Secret it reads or writes (spec.secretRef, and spec.target when set) with its key names
and value lengths (never a value), whether the access token key holds the token this
FigmaToken wrote, and who owns the Secret (the figma.tokenops.dev/owner annotation,
ownerReferences); the last ` + fmt.Sprint(recentEvents) + ` Events; how many containers use the token and how
many of them are stale (hold a token that expires within 24h: kubectl figmatoken consumers
NAME lists them), when you may list pods; and a one-line verdict with what to do next.

Needs get on figmatokens, secrets and events in the namespace (list on pods for the
consumers line); what cannot be read is said in its section and the rest is shown. Fails
when the FigmaToken cannot be read.`,
		Example: `  kubectl figmatoken status design-system -n web`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := o.connect()
			if err != nil {
				return err
			}
			r, err := s.gather(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printReport(o.streams.Out, r, time.Now())
		},
	}
}

// gather reads the FigmaToken, its Secrets and its Events.
func (s *session) gather(ctx context.Context, name string) (*report, error) {
	ft := &figmav1alpha1.FigmaToken{}
	if err := s.client.Get(ctx, client.ObjectKey{Namespace: s.namespace, Name: name}, ft); err != nil {
		return nil, err
	}
	r := &report{token: ft, client: s.oauthClient(ctx, ft)}
	source := string(ft.Spec.SecretRef.Name)
	if ft.Spec.Target == nil {
		r.secrets = append(r.secrets, s.secret(ctx, ft, source, "source and access token", accessTokenKey(ft)))
	} else {
		r.secrets = append(r.secrets,
			s.secret(ctx, ft, source, "source: the refresh token", ""),
			s.secret(ctx, ft, string(ft.Spec.Target.Name), "target: the access token", accessTokenKey(ft)))
	}
	r.events, r.eventsErr = s.events(ctx, ft)
	r.consumers, r.consumersErr = s.consumers(ctx, ft, nil, staleWithin, time.Now())
	if apierrors.IsForbidden(r.consumersErr) {
		r.consumersErr = nil // the user may not list pods: no line
	}
	return r, nil
}

func (s *session) secret(ctx context.Context, ft *figmav1alpha1.FigmaToken, name, role, accessKey string) secretReport {
	secret := &corev1.Secret{}
	if err := s.client.Get(ctx, client.ObjectKey{Namespace: ft.Namespace, Name: name}, secret); err != nil {
		return secretReport{role: role, name: name, err: err}
	}
	return describeSecret(role, secret, accessKey, ft)
}

// events lists the Events regarding this FigmaToken (by UID, so not those of an earlier
// FigmaToken of the same name), oldest first, the last recentEvents.
func (s *session) events(ctx context.Context, ft *figmav1alpha1.FigmaToken) ([]eventLine, error) {
	list := &corev1.EventList{}
	if err := s.client.List(ctx, list, client.InNamespace(ft.Namespace), client.MatchingFields{
		"involvedObject.kind": "FigmaToken", "involvedObject.name": ft.Name,
	}); err != nil {
		return nil, err
	}
	var events []eventLine
	for i := range list.Items {
		if e := &list.Items[i]; e.InvolvedObject.UID == "" || e.InvolvedObject.UID == ft.UID {
			events = append(events, newEventLine(e))
		}
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].when.Before(events[j].when) })
	if len(events) > recentEvents {
		events = events[len(events)-recentEvents:]
	}
	return events, nil
}
