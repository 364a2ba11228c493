package controllers

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/policy"
)

// memory is what the reconciler keeps about each FigmaToken between reconciles, all in one
// place but what the Secret writer keeps (its own writes and the tokens obtained:
// internal/secretwrite). Everything that must survive a restart lives in the Secret and in
// status; this is what the cache may not show yet, or what must not be fetched twice:
//   - the failure streak, until the cache shows the status written for it;
//   - the overwrites other writers made lately, and a fight with them;
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
	uid        types.UID
	failure    *policy.Failure // nil when none: most FigmaTokens have no streak
	overwrites policy.Overwrites
	// overwriteKey is the resourceVersion (or "absent") of the last overwrite counted, so
	// one overwrite seen by several reconciles counts once; "" after an own write.
	overwriteKey string
	// overwritesOf is the generation the overwrites were seen at: a spec change (e.g. to
	// spec.target, the fix the fight's message gives) ends a fight.
	overwritesOf int64
	restarts     map[workload]string // the restartedAt stamp last sent
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

// latestFailure returns the newer of the remembered streak and the one in status.
func (m *memory) latestFailure(ft *figmav1alpha1.FigmaToken) policy.Failure {
	fromStatus := failureFromStatus(ft)
	m.mu.Lock()
	defer m.mu.Unlock()
	if kept := m.of(ft).failure; kept != nil && !kept.Last.Before(fromStatus.Last) {
		return *kept
	}
	return fromStatus
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

// written notes an own write of the token at a time: the next overwrite is a new one, and
// during a fight the write is one of its rewrites.
func (m *memory) written(ft *figmav1alpha1.FigmaToken, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.of(ft)
	t.overwriteKey = ""
	t.overwrites = t.overwrites.Rewrote(at)
}

// overwritesOf returns what other writers did lately, at the FigmaToken's generation.
func (m *memory) overwritesOf(ft *figmav1alpha1.FigmaToken) policy.Overwrites {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.of(ft)
	if t.overwritesOf != ft.Generation {
		return policy.Overwrites{}
	}
	return t.overwrites
}

// seeOverwrite counts an overwrite, identified by key, once: it reports whether it was
// counted now and whether it started a fight.
func (m *memory) seeOverwrite(ft *figmav1alpha1.FigmaToken, key string, at time.Time, writer string) (w policy.Overwrites, counted, started bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.of(ft)
	if t.overwriteKey == key {
		return t.overwrites, false, false
	}
	t.overwriteKey = key
	if t.overwritesOf != ft.Generation {
		t.overwrites, t.overwritesOf = policy.Overwrites{}, ft.Generation
	}
	t.overwrites, started = t.overwrites.Seen(at, writer)
	return t.overwrites, true, started
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

// restartedFor returns the later of status's rolloutRestartedFor and what was kept.
func (m *memory) restartedFor(ft *figmav1alpha1.FigmaToken) time.Time {
	var fromStatus time.Time
	if ft.Status.RolloutRestartedFor != nil {
		fromStatus = ft.Status.RolloutRestartedFor.Time
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if kept := m.of(ft).restartedFor; kept.After(fromStatus) {
		return kept
	}
	return fromStatus
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
