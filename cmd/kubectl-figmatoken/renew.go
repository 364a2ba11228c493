package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// pollInterval is how often renew --wait reads the FigmaTokens it waits for.
const pollInterval = 500 * time.Millisecond

type renewOptions struct {
	all, allNamespaces, wait bool
	selector                 string
	timeout                  time.Duration
}

func newRenewCommand(o *options) *cobra.Command {
	ro := &renewOptions{}
	cmd := &cobra.Command{
		Use:   "renew (NAME... | -l SELECTOR | --all)",
		Short: "Refresh FigmaTokens now, once (the refresh-requested-at annotation)",
		Long: `Ask the operator to refresh now, once: set the ` + figmav1alpha1.AnnotationRefreshRequestedAt + `
annotation to the current time (RFC 3339, UTC) with a merge patch, as
kubectl annotate ... refresh-requested-at="$(date -u +%FT%TZ)" --overwrite would. Each new
value causes exactly one refresh (one upstream call), also one that was being retried with
backoff: renew after fixing the cause. A suspended FigmaToken is not refreshed until
spec.suspend is false.

With --wait, wait until the operator has handled the request (status.lastHandledRefreshRequest
equals the value set) and print the outcome: Ready's reason and message, or the failure's.

Exit status: 1 when a FigmaToken cannot be read or patched, and with --wait when a refresh
failed (status.failedAttempts > 0: RefreshRejected, AWSAccessDenied, RefreshFailed, ...), was
not handled within --timeout (a blocker such as SecretNotFound holds it: the verdict says
which), or the FigmaToken is suspended. Needs patch on figmatokens.`,
		Example: `  kubectl figmatoken renew design-system -n web --wait
  kubectl figmatoken renew -l team=design --wait --timeout 5m
  kubectl figmatoken renew --all -A`,
		RunE: func(cmd *cobra.Command, names []string) error {
			if err := ro.validate(names); err != nil {
				return err
			}
			s, err := o.connect()
			if err != nil {
				return err
			}
			return s.renew(cmd.Context(), o, ro, names)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&ro.all, "all", false, "renew every FigmaToken in the namespace (every namespace with -A)")
	f.StringVarP(&ro.selector, "selector", "l", "", "renew the FigmaTokens this label selector selects, e.g. -l team=design")
	f.BoolVarP(&ro.allNamespaces, "all-namespaces", "A", false, "with -l or --all: in every namespace, not only -n's")
	f.BoolVar(&ro.wait, "wait", false, "wait until each refresh is handled and print its outcome; exit 1 if one failed")
	f.DurationVar(&ro.timeout, "timeout", 2*time.Minute, "with --wait: how long to wait for all of them, a Go duration (90s, 5m)")
	return cmd
}

func (ro *renewOptions) validate(names []string) error {
	picked := 0
	for _, given := range []bool{len(names) > 0, ro.selector != "", ro.all} {
		if given {
			picked++
		}
	}
	switch {
	case picked != 1:
		return errors.New("name the FigmaTokens to renew: NAME..., -l SELECTOR or --all (one of them)")
	case ro.allNamespaces && len(names) > 0:
		return errors.New("-A goes with -l or --all; with NAME use -n NAMESPACE")
	case ro.timeout <= 0:
		return fmt.Errorf("--timeout must be positive, got %s", ro.timeout)
	}
	return nil
}

// renew sets the annotation on each FigmaToken chosen and, with --wait, waits for the
// outcomes.
func (s *session) renew(ctx context.Context, o *options, ro *renewOptions, names []string) error {
	var items []figmav1alpha1.FigmaToken
	if len(names) > 0 {
		for _, name := range names {
			ft := figmav1alpha1.FigmaToken{}
			if err := s.client.Get(ctx, client.ObjectKey{Namespace: s.namespace, Name: name}, &ft); err != nil {
				return err
			}
			items = append(items, ft)
		}
	} else {
		var err error
		if items, err = s.list(ctx, ro.allNamespaces, ro.selector); err != nil {
			return err
		}
		if len(items) == 0 {
			return errors.New("no FigmaTokens found to renew")
		}
	}

	now := time.Now()
	requested := map[client.ObjectKey]string{}
	failed := false
	for i := range items {
		ft := &items[i]
		value := requestValue(ft, now)
		if err := s.request(ctx, ft, value); err != nil {
			return fmt.Errorf("%s/%s: %w", ft.Namespace, ft.Name, err)
		}
		fmt.Fprintf(o.streams.Out, "%s/%s: refresh requested (%s=%s)\n", ft.Namespace, ft.Name, figmav1alpha1.AnnotationRefreshRequestedAt, value)
		if ft.Spec.Suspend {
			fmt.Fprintf(o.streams.Out, "%s/%s: suspended: not refreshed until spec.suspend is false\n", ft.Namespace, ft.Name)
			failed = true
			continue
		}
		requested[client.ObjectKeyFromObject(ft)] = value
	}
	if !ro.wait {
		return nil
	}
	if !s.await(ctx, o, requested, ro.timeout) || failed {
		return silentError{errors.New("not every refresh succeeded")}
	}
	return nil
}

// requestValue is the annotation's new value: now in RFC 3339, finer when that value was
// already set or handled within this second (only a new value asks for a refresh).
func requestValue(ft *figmav1alpha1.FigmaToken, now time.Time) string {
	value := now.UTC().Format(time.RFC3339)
	if value == ft.Annotations[figmav1alpha1.AnnotationRefreshRequestedAt] || value == ft.Status.LastHandledRefreshRequest {
		value = now.UTC().Format(time.RFC3339Nano)
	}
	return value
}

// request sets the annotation with a merge patch, which touches nothing else.
func (s *session) request(ctx context.Context, ft *figmav1alpha1.FigmaToken, value string) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{
		figmav1alpha1.AnnotationRefreshRequestedAt: value,
	}}})
	if err != nil {
		return err
	}
	return s.client.Patch(ctx, ft.DeepCopy(), client.RawPatch(types.MergePatchType, patch))
}

// await polls the FigmaTokens until each has handled its request or timeout passes,
// printing each outcome; it reports whether every refresh succeeded.
func (s *session) await(parent context.Context, o *options, requested map[client.ObjectKey]string, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	ok := true
	last := map[client.ObjectKey]*figmav1alpha1.FigmaToken{}
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for len(requested) > 0 {
		for key, value := range requested {
			ft := &figmav1alpha1.FigmaToken{}
			if err := s.client.Get(ctx, key, ft); err != nil {
				continue // read again at the next tick, until the deadline
			}
			last[key] = ft
			if done, succeeded, line := judge(ft, value, time.Now()); done {
				fmt.Fprintf(o.streams.Out, "%s: %s\n", key, line)
				ok = ok && succeeded
				delete(requested, key)
			}
		}
		if len(requested) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			what := fmt.Sprintf("not handled within %s", timeout)
			if parent.Err() != nil {
				what = "interrupted before it was handled"
			}
			for key := range requested {
				why := "the FigmaToken could not be read"
				if ft := last[key]; ft != nil {
					why = verdict(ft, time.Now())
				}
				fmt.Fprintf(o.streams.Out, "%s: %s: %s\n", key, what, why)
			}
			return false
		case <-ticker.C:
		}
	}
	return ok
}

// judge reads the outcome of the request value from a FigmaToken: done once the operator
// has handled it, succeeded when it refreshed (no failure streak and Ready), and the line
// that says so.
func judge(ft *figmav1alpha1.FigmaToken, value string, now time.Time) (done, succeeded bool, line string) {
	if ft.Status.LastHandledRefreshRequest != value {
		return false, false, ""
	}
	ready := find(ft.Status.Conditions, figmav1alpha1.ConditionReady)
	if ft.Status.FailedAttempts == 0 && ready != nil && ready.Status == "True" {
		return true, true, fmt.Sprintf("refreshed: Ready=True %s: %s; the token expires %s", ready.Reason, strings.TrimSuffix(ready.Message, "."), relative(ft.Status.ExpiresAt, now))
	}
	failure := ready
	for _, t := range []string{figmav1alpha1.ConditionStalled, figmav1alpha1.ConditionReconciling} {
		if c := holding(ft.Status.Conditions, t); c != nil {
			failure = c
			break
		}
	}
	if failure == nil {
		return true, false, "refresh failed, and the FigmaToken has no conditions"
	}
	return true, false, fmt.Sprintf("refresh failed (%d in a row): %s: %s", ft.Status.FailedAttempts, failure.Reason, failure.Message)
}
