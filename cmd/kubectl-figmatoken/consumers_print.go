package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/printers"
)

// printConsumers writes the consumers as a table, after a line on the current token and
// before a line that sums up.
func printConsumers(out io.Writer, r *consumersReport, now time.Time) error {
	fmt.Fprintf(out, "Secret %s/%s, key %q: %s\n", r.Namespace, r.Secret, r.Key, currentToken(r, now))
	if len(r.Consumers) == 0 {
		_, err := fmt.Fprintf(out, "No container in namespace %s uses it.\n", r.Namespace)
		return err
	}
	w := printers.GetNewTabWriter(out)
	fmt.Fprintln(w, strings.Join([]string{"POD", "CONTAINER", "WAY", "VIA", "STARTED", "HOLDS", "EXPIRES", "STALE"}, "\t"))
	for _, c := range r.Consumers {
		started, expires, stale := "-", "-", "no"
		if c.StartedAt != nil {
			started = relative(&metav1.Time{Time: *c.StartedAt}, now)
		}
		if c.ExpiresBy != nil {
			expires = timeLeft(&metav1.Time{Time: *c.ExpiresBy}, now)
		}
		if c.Stale {
			stale = "yes"
		}
		fmt.Fprintln(w, strings.Join([]string{c.Pod, c.Container, c.Way, c.Via, started, c.Holds, expires, stale}, "\t"))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	var err error
	if r.Stale > 0 {
		_, err = fmt.Fprintf(out, "%d of %d consumers hold a token that has expired or expires within %s, and see no new one until they restart: restart them (kubectl rollout restart), or mount the Secret as a volume without subPath.\n",
			r.Stale, len(r.Consumers), r.Within)
	} else {
		_, err = fmt.Fprintf(out, "No consumer holds a token that expires within %s.\n", r.Within)
	}
	return err
}

// currentToken says when the Secret's current token was refreshed and expires.
func currentToken(r *consumersReport, now time.Time) string {
	if r.RefreshedAt == nil || r.ExpiresAt == nil {
		return "no token of this FigmaToken recorded yet (no figma.tokenops.dev/refreshed-at and expires-at annotations)"
	}
	return fmt.Sprintf("the current token was refreshed %s and expires %s",
		stamp(&metav1.Time{Time: *r.RefreshedAt}, now), stamp(&metav1.Time{Time: *r.ExpiresAt}, now))
}

// printConsumersJSON writes the report as indented JSON, times in RFC 3339 (UTC).
func printConsumersJSON(out io.Writer, r *consumersReport) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(r) //nolint:gosec // "secret" is the Secret's name; the report holds no value of it
}
