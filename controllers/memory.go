package controllers

import (
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/policy"
)

// memory is what the reconciler keeps about each FigmaToken between reconciles, all in one
// place. Everything that must survive a restart lives in the Secret and in status; this is
// what the cache may not show yet, or what must not be fetched twice:
//   - the failure streak, until the cache shows the status written for it;
//   - the token obtained from upstream, while it is comfortably unexpired (not only until
//     it is written): a Secret another writer overwrote gets it back without a call;
//   - the overwrites other writers made lately, and a fight with them;
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
	uid        types.UID
	failure    *policy.Failure // nil when none: most FigmaTokens have no streak
	kept       *keptToken
	overwrites policy.Overwrites
	// overwriteKey is the resourceVersion (or "absent") of the last overwrite counted, so
	// one overwrite seen by several reconciles counts once; "" after an own write.
	overwriteKey  string
	restarts      map[workload]string // the restartedAt stamp last sent
	statusVersion string
	wrote         []types.NamespacedName // Secrets with an own-write note (one, or two with a target)
}

// workload is one of spec.rolloutRestartTargets.
type workload struct{ kind, name string }

// keptToken is an obtained token and the inputs it was obtained for: the credential sent
// and the refresh-requested-at value; written once it reached the Secret at generation.
type keptToken struct {
	credentialHash string
	request        string
	obtained
	written    bool
	generation int64
}

// keptInfo is what policy may know of the kept token: everything but the token.
func (k *keptToken) info() policy.Kept {
	if k == nil {
		return policy.Kept{}
	}
	return policy.Kept{CredentialHash: k.credentialHash, Request: k.request,
		RefreshedAt: k.sentAt.UTC().Truncate(time.Second), ExpiresAt: k.expiresAt, Written: k.written}
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

// kept returns what policy may know of the kept token, and whether it was written at the
// FigmaToken's current generation.
func (m *memory) keptInfo(ft *figmav1alpha1.FigmaToken) (policy.Kept, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := m.of(ft).kept
	return k.info(), k != nil && k.written && k.generation == ft.Generation
}

// written notes that the kept token is in the Secret: it is kept on, for restoring. A
// write during a fight is one of its rewrites.
func (m *memory) written(ft *figmav1alpha1.FigmaToken, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.of(ft)
	if t.kept != nil {
		t.kept.written, t.kept.generation = true, ft.Generation
	}
	t.overwriteKey = ""
	t.overwrites = t.overwrites.Rewrote(at)
}

// overwritesOf returns what other writers did lately.
func (m *memory) overwritesOf(ft *figmav1alpha1.FigmaToken) policy.Overwrites {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.of(ft).overwrites
}

// seeOverwrite counts an overwrite, identified by key, once, and reports whether it started
// a fight.
func (m *memory) seeOverwrite(ft *figmav1alpha1.FigmaToken, key string, at time.Time, manager string) (policy.Overwrites, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.of(ft)
	if t.overwriteKey == key {
		return t.overwrites, false
	}
	t.overwriteKey = key
	var started bool
	t.overwrites, started = t.overwrites.Seen(at, manager)
	return t.overwrites, started
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
