package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/printers"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// byUrgency orders FigmaTokens as an operator on call reads them: not Ready first, then the
// least time left until expiry (none at all first), then by namespace and name.
func byUrgency(items []figmav1alpha1.FigmaToken) {
	sort.SliceStable(items, func(i, j int) bool {
		a, b := &items[i], &items[j]
		if ra, rb := isReady(a), isReady(b); ra != rb {
			return !ra
		}
		if ea, eb := expiry(a), expiry(b); !ea.Equal(eb) {
			return ea.Before(eb)
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
}

func isReady(ft *figmav1alpha1.FigmaToken) bool {
	return holding(ft.Status.Conditions, figmav1alpha1.ConditionReady) != nil
}

// expiry is status.expiresAt, the zero time (most urgent) without one.
func expiry(ft *figmav1alpha1.FigmaToken) time.Time {
	if ft.Status.ExpiresAt == nil {
		return time.Time{}
	}
	return ft.Status.ExpiresAt.Time
}

// printTable writes FigmaTokens as kubectl get does: upper-case headers, aligned columns,
// NAMESPACE first when they come from every namespace.
func printTable(out io.Writer, items []figmav1alpha1.FigmaToken, withNamespace bool, now time.Time) error {
	w := printers.GetNewTabWriter(out)
	header := []string{"NAME", "READY", "REASON", "EXPIRES", "NEXT-REFRESH", "CLIENT", "AGE"}
	if withNamespace {
		header = append([]string{"NAMESPACE"}, header...)
	}
	fmt.Fprintln(w, strings.Join(header, "\t"))
	for i := range items {
		ft := &items[i]
		row := []string{ft.Name, "<none>", "<none>", timeLeft(ft.Status.ExpiresAt, now), timeUntil(ft.Status.NextRefreshTime, now),
			clientColumn(ft), age(ft.CreationTimestamp, now)}
		if ready := find(ft.Status.Conditions, figmav1alpha1.ConditionReady); ready != nil {
			row[1], row[2] = string(ready.Status), reasonShown(ft, ready)
		}
		if withNamespace {
			row = append([]string{ft.Namespace}, row...)
		}
		fmt.Fprintln(w, strings.Join(row, "\t"))
	}
	return w.Flush()
}

// reasonShown is Ready's reason, or while Ready holds, the reason of Stalled or Reconciling
// if either holds: a working token whose refreshes are refused shows RefreshRejected, not
// Refreshed.
func reasonShown(ft *figmav1alpha1.FigmaToken, ready *metav1.Condition) string {
	if ready.Status != metav1.ConditionTrue {
		return ready.Reason
	}
	for _, t := range []string{figmav1alpha1.ConditionStalled, figmav1alpha1.ConditionReconciling} {
		if c := holding(ft.Status.Conditions, t); c != nil {
			return c.Reason
		}
	}
	return ready.Reason
}
