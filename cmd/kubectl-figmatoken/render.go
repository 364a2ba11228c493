package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/printers"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// printReport writes kubectl figmatoken status: sections like kubectl describe, the
// verdict last.
func printReport(out io.Writer, r *report, now time.Time) error {
	ft := r.token
	w := &lines{out: out}
	w.field("Name", ft.Name)
	w.field("Namespace", ft.Namespace)
	w.field("Age", age(ft.CreationTimestamp, now))
	w.field("Spec", specSummary(ft))
	w.field("Client", clientSummary(ft, r.client))

	w.line("Conditions:")
	if len(ft.Status.Conditions) == 0 {
		w.line("  none (no manager has reconciled it)")
	} else {
		tw := printers.GetNewTabWriter(out)
		fmt.Fprintln(tw, "  TYPE\tSTATUS\tREASON\tSINCE\tMESSAGE")
		for _, c := range ft.Status.Conditions {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", c.Type, c.Status, c.Reason, age(c.LastTransitionTime, now), c.Message)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	w.line("Token:")
	w.field("  Expires", stamp(ft.Status.ExpiresAt, now))
	w.field("  Last refresh", stamp(ft.Status.LastRefreshTime, now))
	w.field("  Next refresh", stamp(ft.Status.NextRefreshTime, now))
	w.field("  Failed attempts", failureStreak(ft, now))
	w.field("  Refresh request", requestState(ft))

	for _, s := range r.secrets {
		w.line(fmt.Sprintf("Secret %s (%s):", s.name, s.role))
		if s.err != nil {
			w.field("  Error", s.err.Error())
			continue
		}
		w.field("  Keys", keyList(s))
		if s.holdsKey != "" {
			w.field("  Access token", holdsLine(s))
		}
		w.field("  Owner", ownerLine(s, ft))
		if !s.record.RefreshedAt.IsZero() {
			refreshed, expires := metav1.NewTime(s.record.RefreshedAt), metav1.NewTime(s.record.ExpiresAt)
			w.field("  Written", fmt.Sprintf("refreshed %s, expires %s", stamp(&refreshed, now), stamp(&expires, now)))
		}
	}

	if r.eventsErr != nil {
		w.field("Events", "cannot list them: "+r.eventsErr.Error())
	} else if len(r.events) == 0 {
		w.field("Events", "none")
	} else {
		w.line("Events (newest last):")
		tw := printers.GetNewTabWriter(out)
		fmt.Fprintln(tw, "  AGE\tTYPE\tREASON\tCOUNT\tMESSAGE")
		for _, e := range r.events {
			when := metav1.NewTime(e.when)
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%s\n", age(when, now), e.kind, e.reason, e.count, e.message)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if line := consumersLine(r); line != "" {
		w.field("Consumers", line)
	}
	w.field("Verdict", verdict(ft, now))
	return w.err
}

// consumersLine counts the containers that use the token and the stale ones; "" when the
// user may not list pods.
func consumersLine(r *report) string {
	switch c := r.consumers; {
	case r.consumersErr != nil:
		return "cannot list them: " + r.consumersErr.Error()
	case c == nil:
		return ""
	case len(c.Consumers) == 0:
		return fmt.Sprintf("no container in namespace %s uses Secret %s", c.Namespace, c.Secret)
	default:
		pods := map[string]bool{}
		for _, x := range c.Consumers {
			pods[x.Pod] = true
		}
		return fmt.Sprintf("%d uses in %d pods, %d stale (a token that expires within %s, not renewed until a restart): kubectl figmatoken consumers %s -n %s",
			len(c.Consumers), len(pods), c.Stale, shortDuration(staleWithin), c.FigmaToken, c.Namespace)
	}
}

// lines writes "Label:  value" lines, keeping the first error.
type lines struct {
	out io.Writer
	err error
}

func (l *lines) field(label, value string) { l.line(fmt.Sprintf("%-19s %s", label+":", value)) }

func (l *lines) line(s string) {
	if l.err == nil {
		_, l.err = io.WriteString(l.out, s+"\n")
	}
}

func specSummary(ft *figmav1alpha1.FigmaToken) string {
	s := fmt.Sprintf("secretRef %s (refresh token %q, access token %q", ft.Spec.SecretRef.Name, refreshTokenKey(ft), accessTokenKey(ft))
	if ft.Spec.SecretRef.ExpiresAtKey != "" {
		s += fmt.Sprintf(", expiry %q", ft.Spec.SecretRef.ExpiresAtKey)
	}
	s += ")"
	if ft.Spec.Target != nil {
		s += ", target " + string(ft.Spec.Target.Name)
	}
	s += ", refreshBefore " + orDefault(ft.Spec.RefreshBefore, "a third of the lifetime")
	if ft.Spec.RefreshInterval != "" {
		s += ", refreshInterval " + ft.Spec.RefreshInterval
	}
	if ft.Spec.Suspend {
		s += ", suspended"
	}
	return s
}

func failureStreak(ft *figmav1alpha1.FigmaToken, now time.Time) string {
	if ft.Status.FailedAttempts == 0 {
		return "0"
	}
	return fmt.Sprintf("%d in a row, the last %s", ft.Status.FailedAttempts, stamp(ft.Status.LastFailureTime, now))
}

func requestState(ft *figmav1alpha1.FigmaToken) string {
	requested := ft.Annotations[figmav1alpha1.AnnotationRefreshRequestedAt]
	switch {
	case requested == "":
		return "none (kubectl figmatoken renew asks for one)"
	case requestPending(ft):
		return requested + ", not handled yet"
	default:
		return requested + ", handled"
	}
}

func keyList(s secretReport) string {
	if len(s.keys) == 0 {
		return "none"
	}
	var keys []string
	for _, k := range s.keys {
		keys = append(keys, fmt.Sprintf("%s (%d bytes)", k.Key, k.Bytes))
	}
	list := strings.Join(keys, ", ")
	if s.immutable {
		list += "; immutable"
	}
	return list
}

func holdsLine(s secretReport) string {
	if s.holds {
		return fmt.Sprintf("%q holds the token this FigmaToken wrote", s.holdsKey)
	}
	return fmt.Sprintf("%q does not hold the token this FigmaToken wrote (missing, empty or another value)", s.holdsKey)
}

// ownerLine names who owns the Secret: the operator's owner annotation (the in-place
// Secret) and the ownerReferences (a target).
func ownerLine(s secretReport, ft *figmav1alpha1.FigmaToken) string {
	var parts []string
	switch owner := s.record.Owner; {
	case owner == ft.Name:
		parts = append(parts, fmt.Sprintf("%s=%s (this FigmaToken)", figmav1alpha1.AnnotationOwner, owner))
	case owner != "":
		parts = append(parts, fmt.Sprintf("%s=%s (another FigmaToken)", figmav1alpha1.AnnotationOwner, owner))
	}
	for _, ref := range s.ownerRefs {
		p := ref.Kind + "/" + ref.Name
		if ref.Controller != nil && *ref.Controller {
			p += " (controller)"
		}
		if ref.UID == ft.UID {
			p += " (this FigmaToken)"
		}
		parts = append(parts, "ownerReference "+p)
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "; ")
}
