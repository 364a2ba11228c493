package controllers

import (
	"context"
	"errors"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/metrics"
	"github.com/tokenops/figma-token-operator/internal/policy"
)

// record mirrors the decision into status (one patch, skipped when nothing changed),
// Events and metrics.
func (r *FigmaTokenReconciler) record(ctx context.Context, ft *figmav1alpha1.FigmaToken, obs policy.Observation, d policy.Decision) error {
	sent := r.restartsSent(ft, obs)
	desired := desiredStatus(ft, obs, d, sent)
	metrics.SetState(ft.Namespace, ft.Name, d.Ready, timeOrZero(desired.ExpiresAt))
	metrics.SetConditions(ft.Namespace, ft.Name, metrics.Series(desired.Conditions))

	// The patch is a diff, and a diff against a stale cached copy loses: a field whose new
	// value equals the stale one is left out (or the patch skipped) and the server keeps a
	// newer, wrong value, e.g. failedAttempts 1 after a success. So the diff is taken against
	// the version this process last wrote or read, read afresh when the cache does not show
	// it yet, and sent with its resourceVersion; on a conflict it is taken again.
	current, err := r.freshest(ctx, ft)
	if err != nil {
		return client.IgnoreNotFound(err)
	}
	// A blocker is reported once, when it starts: judged against Stalled in the latest status
	// (every blocker with a Warning sets it; Ready may stay True meanwhile). Failures are
	// reported per attempt.
	if rule := policy.Reasons[d.Reason]; d.Blocked && rule.EventType != "" && !stalledBy(current, d.Reason) {
		r.Recorder.Eventf(ft, nil, rule.EventType, rule.EventReason, "Reconcile", "%s", d.Message)
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		// What was observed of one FigmaToken never lands on another of the same name.
		if current.UID != ft.UID {
			return nil
		}
		status := desiredStatus(current, obs, d, sent)
		if equality.Semantic.DeepEqual(status, current.Status) {
			return nil
		}
		patched := current.DeepCopy()
		patched.Status = status
		err := r.Client.Status().Patch(ctx, patched, client.MergeFromWithOptions(current, client.MergeFromWithOptimisticLock{}))
		if err == nil {
			r.memory.sawVersion(patched)
			return nil
		}
		if apierrors.IsConflict(err) {
			if current, err = r.read(ctx, ft); err == nil {
				return apierrors.NewConflict(figmav1alpha1.GroupVersion.WithResource("figmatokens").GroupResource(), ft.Name, errors.New("retrying on the newer version"))
			}
		}
		return err
	})
	// A FigmaToken deleted meanwhile has no status left to record.
	return client.IgnoreNotFound(err)
}

// freshest is the cached FigmaToken, or the API server's when the cache does not yet show
// the version this process last wrote or read. Right after a start nothing was written, and
// the cache, just listed, is taken as it is: a restart costs no reads.
func (r *FigmaTokenReconciler) freshest(ctx context.Context, cached *figmav1alpha1.FigmaToken) (*figmav1alpha1.FigmaToken, error) {
	if r.memory.isCurrent(cached) {
		return cached, nil
	}
	return r.read(ctx, cached)
}

// read gets a FigmaToken from the API server and remembers its version.
func (r *FigmaTokenReconciler) read(ctx context.Context, ft *figmav1alpha1.FigmaToken) (*figmav1alpha1.FigmaToken, error) {
	latest := &figmav1alpha1.FigmaToken{}
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(ft), latest); err != nil {
		return nil, err
	}
	r.memory.sawVersion(latest)
	return latest, nil
}

// desiredStatus is the status that mirrors the Secret's record, the failure streak and the
// decision. It claims the generation observed (obs.Generation), also when it is written on
// a newer version of the FigmaToken after a conflict: kstatus, Flux and Argo CD read
// observedGeneration as "this spec is done".
func desiredStatus(ft *figmav1alpha1.FigmaToken, obs policy.Observation, d policy.Decision, sent []figmav1alpha1.RolloutRestartSent) figmav1alpha1.FigmaTokenStatus {
	status := figmav1alpha1.FigmaTokenStatus{
		ObservedGeneration:        obs.Generation,
		Conditions:                append([]metav1.Condition(nil), ft.Status.Conditions...),
		SecretName:                destinationName(ft),
		FailedAttempts:            obs.Failure.Attempts,
		LastHandledRefreshRequest: obs.Record.HandledRefreshRequest,
		SecretResourceVersion:     obs.SecretVersion,
	}
	if obs.Failure.Request != "" && obs.Failure.Attempts > 0 {
		status.LastHandledRefreshRequest = obs.Failure.Request
	}
	switch {
	case obs.Owned() && obs.TokenHeld:
		status.ExpiresAt = timePtr(obs.Record.ExpiresAt)
		status.LastRefreshTime = timePtr(obs.Record.RefreshedAt)
	case obs.Overwritten():
		// The token this FigmaToken wrote, until it is back: what it knows it wrote.
		status.ExpiresAt, status.LastRefreshTime = ft.Status.ExpiresAt, ft.Status.LastRefreshTime
	}
	status.RolloutRestartedFor = timePtr(obs.RestartedFor)
	status.RolloutRestartsSent = sent
	if !d.Next.IsZero() {
		status.NextRefreshTime = timePtr(d.Next)
	}
	if obs.Failure.Attempts > 0 {
		status.LastFailureTime = timePtr(obs.Failure.Last)
		status.FailedCredentialHash = obs.Failure.CredentialHash
		status.FailedClient = obs.Failure.Client
		status.RetryAfter = timePtr(obs.Failure.RetryAfter)
	}
	d.SetConditions(&status.Conditions, obs.Generation)
	return status
}

// timePtr converts to the second precision status keeps; nil for the zero time.
func timePtr(t time.Time) *metav1.Time {
	if t.IsZero() {
		return nil
	}
	mt := metav1.NewTime(t.UTC().Truncate(time.Second))
	return &mt
}

func timeOrZero(t *metav1.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.Time
}

// stalledBy reports whether status shows Stalled with reason.
func stalledBy(ft *figmav1alpha1.FigmaToken, reason string) bool {
	c := meta.FindStatusCondition(ft.Status.Conditions, figmav1alpha1.ConditionStalled)
	return c != nil && c.Status == metav1.ConditionTrue && c.Reason == reason
}

// memory is what the reconciler keeps about each FigmaToken between reconciles that status
// may not show yet; the Secret writer keeps the rest (its ledger: the token obtained, its own
// writes, the overwrites of others: internal/secretwrite). Everything that must survive a
// restart lives in the Secret and in status:
//   - the failure streak, until the cache shows the status written for it;
//   - the rollout restarts sent for the current token;
//   - the FigmaToken version last written or read, to tell a lagging cached copy.
//
// An entry is keyed by the FigmaToken's name and belongs to one UID: a FigmaToken re-created
// under the same name starts afresh. forget drops it when the FigmaToken is gone; so the
// memory holds at most one entry per existing FigmaToken.
type memory struct {
	mu     sync.Mutex
	tokens map[types.NamespacedName]*tokenMemory
}

type tokenMemory struct {
	uid      types.UID
	failure  *policy.Failure     // nil when none: most FigmaTokens have no streak
	restarts map[workload]string // the restartedAt stamp last sent
	// restartedFor is the token the workloads were last restarted for (or counted as such),
	// until the cache shows the status that records it.
	restartedFor  time.Time
	statusVersion string
}

// workload is one of spec.rolloutRestartTargets.
type workload struct{ kind, name string }

// of returns the FigmaToken's entry, a fresh one for a new UID; m.mu must be held.
func (m *memory) of(ft *figmav1alpha1.FigmaToken) *tokenMemory {
	key := types.NamespacedName{Namespace: ft.Namespace, Name: ft.Name}
	t := m.tokens[key]
	if t == nil || t.uid != ft.UID {
		if m.tokens == nil {
			m.tokens = map[types.NamespacedName]*tokenMemory{}
		}
		t = &tokenMemory{uid: ft.UID}
		m.tokens[key] = t
	}
	return t
}

// failure returns the remembered streak, nil when none (policy.Observe takes the newer of
// it and status's).
func (m *memory) failure(ft *figmav1alpha1.FigmaToken) *policy.Failure {
	m.mu.Lock()
	defer m.mu.Unlock()
	if f := m.of(ft).failure; f != nil {
		copied := *f
		return &copied
	}
	return nil
}

// rememberFailure stores a streak; a zero streak (after a success) clears it.
func (m *memory) rememberFailure(ft *figmav1alpha1.FigmaToken, f policy.Failure) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.of(ft)
	t.failure = nil
	if f.Attempts > 0 {
		t.failure = &f
	}
}

// restartSent reports whether stamp was already sent to the workload.
func (m *memory) restartSent(ft *figmav1alpha1.FigmaToken, w workload, stamp string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.of(ft).restarts[w] == stamp
}

func (m *memory) rememberRestart(ft *figmav1alpha1.FigmaToken, w workload, stamp string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.of(ft)
	if t.restarts == nil {
		t.restarts = map[workload]string{}
	}
	t.restarts[w] = stamp
}

// noteRestartedFor keeps the later of what was kept and t.
func (m *memory) noteRestartedFor(ft *figmav1alpha1.FigmaToken, t time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r := m.of(ft); t.After(r.restartedFor) {
		r.restartedFor = t
	}
}

// restartedFor returns the token the workloads were last restarted for, as kept until
// status shows it (policy.Observe takes the later of it and status's).
func (m *memory) restartedFor(ft *figmav1alpha1.FigmaToken) time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.of(ft).restartedFor
}

// sawVersion notes the FigmaToken version last written or read from the API server.
func (m *memory) sawVersion(ft *figmav1alpha1.FigmaToken) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.of(ft).statusVersion = ft.ResourceVersion
}

// isCurrent reports whether a copy is the version last seen, or none was seen yet.
func (m *memory) isCurrent(ft *figmav1alpha1.FigmaToken) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := m.of(ft).statusVersion
	return seen == "" || seen == ft.ResourceVersion
}

// forget drops everything kept for a FigmaToken that is gone.
func (m *memory) forget(key types.NamespacedName) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.tokens, key)
}

// size is how many FigmaTokens the memory holds, for tests.
func (m *memory) size() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.tokens)
}
