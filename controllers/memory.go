package controllers

import (
	"slices"
	"sync"

	"k8s.io/apimachinery/pkg/types"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/policy"
)

// memory is what the reconciler keeps about each FigmaToken between reconciles, all in one
// place. Everything that must survive a restart lives in the Secret and in status; this is
// what the cache may not show yet, or what must not be fetched twice:
//   - the failure streak, until the cache shows the status written for it;
//   - the token obtained from upstream, until it is written;
//   - the rollout restarts sent for the current token;
//   - the FigmaToken version last written or read, to tell a lagging cached copy;
//   - the refreshed-at of the operator's own Secret writes, so that their watch events do
//     not start another reconcile.
//
// An entry is keyed by the FigmaToken's name and belongs to one UID: a FigmaToken re-created
// under the same name starts afresh. forget drops it, with the own-write notes of the
// Secrets it wrote, when the FigmaToken is gone; so the memory holds at most one entry per
// existing FigmaToken and one note per Secret they write.
type memory struct {
	mu     sync.Mutex
	tokens map[types.NamespacedName]*tokenMemory
	// ownWrites maps a Secret to the refreshed-at annotation of the operator's last write.
	ownWrites map[types.NamespacedName]string
}

type tokenMemory struct {
	uid           types.UID
	failure       *policy.Failure // nil when none: most FigmaTokens have no streak
	kept          *keptToken
	restarts      map[workload]string // the restartedAt stamp last sent
	statusVersion string
	wrote         []types.NamespacedName // Secrets with an own-write note (one, or two with a target)
}

// workload is one of spec.rolloutRestartTargets.
type workload struct{ kind, name string }

// keptToken is an obtained token and the inputs it was obtained for: the credential sent
// and the refresh-requested-at value.
type keptToken struct {
	credentialHash string
	request        string
	obtained
}

// of returns the FigmaToken's entry, a fresh one for a new UID; m.mu must be held.
func (m *memory) of(ft *figmav1alpha1.FigmaToken) *tokenMemory {
	key := types.NamespacedName{Namespace: ft.Namespace, Name: ft.Name}
	t := m.tokens[key]
	if t == nil || t.uid != ft.UID {
		if t != nil {
			m.dropWrites(t)
		}
		if m.tokens == nil {
			m.tokens = map[types.NamespacedName]*tokenMemory{}
		}
		t = &tokenMemory{uid: ft.UID}
		m.tokens[key] = t
	}
	return t
}

// dropWrites removes the own-write notes of an entry; m.mu must be held.
func (m *memory) dropWrites(t *tokenMemory) {
	for _, secret := range t.wrote {
		delete(m.ownWrites, secret)
	}
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

// keep holds what was obtained until it is written.
func (m *memory) keep(ft *figmav1alpha1.FigmaToken, k keptToken) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.of(ft).kept = &k
}

// keptFor returns what was kept for the credential; a token obtained with another
// credential is of no use.
func (m *memory) keptFor(ft *figmav1alpha1.FigmaToken, credentialHash string) (keptToken, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := m.of(ft).kept
	if k == nil || k.credentialHash != credentialHash {
		return keptToken{}, false
	}
	return *k, true
}

// written drops the kept token once it is in a Secret.
func (m *memory) written(ft *figmav1alpha1.FigmaToken) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.of(ft).kept = nil
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

// noteWrite records, before a write of secret is sent, the refreshed-at it sets, so that
// the watch event of that very write is recognized however early it arrives.
func (m *memory) noteWrite(ft *figmav1alpha1.FigmaToken, secret types.NamespacedName, refreshedAt string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t := m.of(ft); !slices.Contains(t.wrote, secret) {
		t.wrote = append(t.wrote, secret)
	}
	if m.ownWrites == nil {
		m.ownWrites = map[types.NamespacedName]string{}
	}
	m.ownWrites[secret] = refreshedAt
}

// isOwnWrite reports whether an update of a Secret's metadata is the operator's own write:
// the one that set refreshed-at to the value the operator wrote last. (A user's edit of the
// data leaves the annotation as it was.)
func (m *memory) isOwnWrite(secret types.NamespacedName, oldAnnotations, newAnnotations map[string]string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	written, ok := m.ownWrites[secret]
	return ok && newAnnotations[figmav1alpha1.AnnotationRefreshedAt] == written &&
		oldAnnotations[figmav1alpha1.AnnotationRefreshedAt] != written
}

// forget drops everything kept for a FigmaToken that is gone.
func (m *memory) forget(key types.NamespacedName) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t := m.tokens[key]; t != nil {
		m.dropWrites(t)
	}
	delete(m.tokens, key)
}

// size is how many FigmaTokens and Secrets the memory holds, for tests.
func (m *memory) size() (tokens, secrets int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.tokens), len(m.ownWrites)
}
