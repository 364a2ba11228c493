package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// refreshMargin is how long before expiry the operator refreshes a 120 s token at the
// latest (lifetime/3, less the jitter of up to 5%).
const refreshMargin = tokenLifetime/3 - tokenLifetime/20

// tokenPattern finds token values: the users' refresh tokens and the fake's access tokens.
var tokenPattern = regexp.MustCompile(`soakrt-[a-z0-9-]+|figat-[0-9a-f]+`)

// checker asserts the invariants while the run goes on.
type checker struct {
	s  *soak
	mu sync.Mutex

	violations []finding
	excused    []finding
	expiries   map[string]bool // Secret and expires-at already counted
	pending    []pendingRecovery
	recoveries []recovery
	lastLeaks  time.Time
	leaked     map[string]bool // token values found where they must not be
	// nextRefresh is each FigmaToken's nextRefreshTime as last seen.
	nextRefresh map[string]time.Time
}

// nextRefreshOf is a FigmaToken's nextRefreshTime as last seen; zero if unknown.
func (c *checker) nextRefreshOf(name string) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nextRefresh[name]
}

// finding is one broken invariant, or one excused because the faults alone caused it.
type finding struct {
	Kind   string    `json:"kind"`
	At     time.Time `json:"at"`
	Detail string    `json:"detail"`
	Cause  string    `json:"cause,omitempty"`
}

type pendingRecovery struct {
	kind string
	from time.Time
}

type recovery struct {
	Kind    string    `json:"kind"`
	From    time.Time `json:"from"`
	Seconds float64   `json:"seconds"`
}

func (c *checker) violate(kind, detail string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.violations = append(c.violations, finding{Kind: kind, At: time.Now(), Detail: detail})
	logf("VIOLATION %s: %s", kind, detail)
}

func (c *checker) excuse(kind, detail, cause string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.excused = append(c.excused, finding{Kind: kind, At: time.Now(), Detail: detail, Cause: cause})
	logf("excused %s: %s (%s)", kind, detail, cause)
}

// recoverFrom starts timing the recovery from a fault that ended at from.
func (c *checker) recoverFrom(kind string, from time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pending = append(c.pending, pendingRecovery{kind: kind, from: from})
}

// run checks every second, and scans for leaked tokens every 30 s.
func (c *checker) run(ctx context.Context) {
	for tick := time.NewTicker(time.Second); ctx.Err() == nil; <-tick.C {
		if err := c.check(ctx); err != nil && ctx.Err() == nil {
			logf("checker: %v", err)
		}
		if time.Since(c.lastLeaks) >= 30*time.Second {
			c.lastLeaks = time.Now()
			c.scanForLeaks(ctx)
		}
	}
}

// check compares every Secret with what users wrote, looks for lapsed tokens, notes handled
// forced refreshes and times recoveries.
func (c *checker) check(ctx context.Context) error {
	listed := time.Now()
	before := c.s.users.snapshot()
	var secrets corev1.SecretList
	if err := c.s.client.List(ctx, &secrets, client.InNamespace(namespace)); err != nil {
		return err
	}
	var tokens figmav1alpha1.FigmaTokenList
	if err := c.s.client.List(ctx, &tokens, client.InNamespace(namespace)); err != nil {
		return err
	}
	after := c.s.users.snapshot()
	now := time.Now()
	existing := map[string]*figmav1alpha1.FigmaToken{}
	for i := range tokens.Items {
		existing[tokens.Items[i].Name] = &tokens.Items[i]
	}

	for i := range secrets.Items {
		secret := &secrets.Items[i]
		want, ok := before[secret.Name]
		if settled, ok2 := after[secret.Name]; !ok || !ok2 || settled.writes != want.writes {
			continue // a user write overlapped the list
		}
		if got := string(secret.Data["refreshToken"]); got != want.refreshToken {
			c.violate("lost_refresh_token", fmt.Sprintf("Secret %s no longer holds the refresh token users wrote", secret.Name))
		}
		if string(secret.Data[editKey]) != want.edit || secret.Labels[editLabel] != want.edit || secret.Annotations[editAnnotation] != want.edit {
			c.violate("foreign_change", fmt.Sprintf("Secret %s: a key, label or annotation users own was changed", secret.Name))
		}
		ft := existing[secret.Name]
		if ft == nil || !want.figmaToken || secret.Annotations[figmav1alpha1.AnnotationOwner] != ft.Name {
			continue
		}
		if expires, err := time.Parse(time.RFC3339, secret.Annotations[figmav1alpha1.AnnotationExpiresAt]); err == nil && expires.Before(now) {
			c.lapsed(secret.Name, expires)
		}
	}

	c.mu.Lock()
	c.nextRefresh = map[string]time.Time{}
	for _, ft := range tokens.Items {
		if ft.Status.NextRefreshTime != nil {
			c.nextRefresh[ft.Name] = ft.Status.NextRefreshTime.Time
		}
	}
	c.mu.Unlock()
	c.noteHandled(tokens.Items, now)
	c.checkOverwrites(secrets.Items, listed, now)
	c.timeRecoveries(tokens.Items, now)
	return nil
}

// lapsed counts a token that expired while its FigmaToken existed, once, unless the faults
// alone blocked the operator for the whole refresh margin before it.
func (c *checker) lapsed(secret string, expires time.Time) {
	key := secret + "@" + expires.Format(time.RFC3339)
	c.mu.Lock()
	if c.expiries == nil {
		c.expiries = map[string]bool{}
	}
	seen := c.expiries[key]
	c.expiries[key] = true
	c.mu.Unlock()
	if seen {
		return
	}
	detail := fmt.Sprintf("the token in Secret %s expired at %s", secret, expires.Format(time.RFC3339))
	if blocked, causes := c.s.blocked(expires.Add(-refreshMargin), expires, secret); blocked >= refreshMargin-3*time.Second {
		c.excuse("expired_token", detail, fmt.Sprintf("faults blocked the operator for %s of the %s before: %s", blocked.Round(time.Second), refreshMargin, causes))
		return
	}
	c.violate("expired_token", detail)
}

// blocked is how much of [from, to] fault windows cover (hangs only of calls for secret),
// with their names and times.
func (s *soak) blocked(from, to time.Time, secret string) (time.Duration, string) {
	s.mu.Lock()
	var spans []window
	for _, w := range s.windows {
		end := w.end
		if end.IsZero() {
			end = to // still open
		}
		if (w.secret == "" || w.secret == secret) && end.After(from) && w.start.Before(to) {
			spans = append(spans, window{kind: w.kind, start: maxTime(w.start, from), end: minTime(end, to)})
		}
	}
	s.mu.Unlock()
	sort.Slice(spans, func(i, j int) bool { return spans[i].start.Before(spans[j].start) })
	var covered time.Duration
	var names []string
	reach := from
	for _, w := range spans {
		names = append(names, fmt.Sprintf("%s %s–%s", w.kind, w.start.Format("15:04:05"), w.end.Format("15:04:05")))
		if w.end.After(reach) {
			covered += w.end.Sub(maxTime(w.start, reach))
			reach = w.end
		}
	}
	return covered, strings.Join(names, ", ")
}

// noteHandled records when each forced refresh was first seen handled.
func (c *checker) noteHandled(items []figmav1alpha1.FigmaToken, now time.Time) {
	handled := map[string]string{}
	for _, ft := range items {
		handled[ft.Name] = ft.Status.LastHandledRefreshRequest
	}
	u := &c.s.users
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, f := range u.forced {
		if f.handled.IsZero() && handled[f.name] == f.stamp {
			f.handled = now
		}
	}
}

// timeRecoveries ends the pending recoveries once the operator has caught up (see caughtUp)
// and a replica leads.
func (c *checker) timeRecoveries(items []figmav1alpha1.FigmaToken, now time.Time) {
	c.mu.Lock()
	pending := len(c.pending) > 0
	var since time.Time
	if pending {
		since = c.pending[len(c.pending)-1].from
	}
	c.mu.Unlock()
	if !pending || !c.s.caughtUp(items, since, now) || c.s.leader() == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.pending {
		r := recovery{Kind: p.kind, From: p.from, Seconds: now.Sub(p.from).Seconds()}
		c.recoveries = append(c.recoveries, r)
		logf("recovered from the %s in %.1f s", p.kind, r.Seconds)
	}
	c.pending = nil
}

// caughtUp reports whether the operator has worked off what a fault that ended at since
// left behind: every FigmaToken older than 30 s is Ready, and none is more than 5 s past its
// nextRefreshTime, but for those the operator has tried since (its upstream call failed, or
// hangs right now): the upstream's faults, not the recovery, hold those back.
func (s *soak) caughtUp(items []figmav1alpha1.FigmaToken, since, now time.Time) bool {
	for _, ft := range items {
		if now.Sub(ft.CreationTimestamp.Time) < 30*time.Second {
			continue
		}
		if !meta.IsStatusConditionTrue(ft.Status.Conditions, figmav1alpha1.ConditionReady) {
			return false
		}
		next := ft.Status.NextRefreshTime
		if next == nil || !next.Add(5*time.Second).Before(now) {
			continue
		}
		tried := ft.Status.LastFailureTime != nil && !ft.Status.LastFailureTime.Before(&metav1.Time{Time: since})
		if !tried && !s.hanging(ft.Name, now) {
			return false
		}
	}
	return true
}

// hanging reports whether a call for secret hangs at now.
func (s *soak) hanging(secret string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.windows {
		if w.secret == secret && !now.Before(w.start) && now.Before(w.end) {
			return true
		}
	}
	return false
}

func ready(items []figmav1alpha1.FigmaToken) int {
	n := 0
	for _, ft := range items {
		if meta.IsStatusConditionTrue(ft.Status.Conditions, figmav1alpha1.ConditionReady) {
			n++
		}
	}
	return n
}

// scanForLeaks looks for token values in every replica's logs, the Events, the FigmaTokens
// (status included) and every running replica's metrics.
func (c *checker) scanForLeaks(ctx context.Context) {
	haystacks := map[string]string{}
	for _, r := range c.s.replicas {
		haystacks["logs of replica "+r.name] = r.allLogs()
		if resp, err := http.Get(r.metricsURL()); err == nil {
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			haystacks["metrics of replica "+r.name] = string(body)
		}
	}
	var events eventsv1.EventList
	if err := c.s.client.List(ctx, &events, client.InNamespace(namespace)); err == nil {
		data, _ := json.Marshal(events)
		haystacks["Events"] = string(data)
	}
	var tokens figmav1alpha1.FigmaTokenList
	if err := c.s.client.List(ctx, &tokens, client.InNamespace(namespace)); err == nil {
		data, _ := json.Marshal(tokens)
		haystacks["FigmaTokens"] = string(data)
	}
	if c.leaked == nil {
		c.leaked = map[string]bool{}
	}
	for where, text := range haystacks {
		for _, value := range tokenPattern.FindAllString(text, -1) {
			if !c.leaked[value] {
				c.leaked[value] = true
				c.violate("leak", "a token value in "+where)
			}
		}
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func sortStrings(s []string) { sort.Strings(s) }
