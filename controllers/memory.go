package controllers

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// failureMemory keeps each FigmaToken's latest failure streak in memory. Status holds the
// same streak, but the cache may not show a status write yet when the next reconcile runs;
// without this, that reconcile would retry at once. It also remembers which refresh token
// failed, which status does not say.
type failureMemory struct {
	mu      sync.Mutex
	streaks map[types.NamespacedName]rememberedFailure
}

type rememberedFailure struct {
	uid types.UID
	failureState
}

// latest returns the newer of the remembered streak and the one in status.
func (m *failureMemory) latest(ft *figmav1alpha1.FigmaToken) failureState {
	fromStatus := failureFromStatus(ft)
	m.mu.Lock()
	defer m.mu.Unlock()
	kept, ok := m.streaks[types.NamespacedName{Namespace: ft.Namespace, Name: ft.Name}]
	if !ok || kept.uid != ft.UID || kept.Last.Before(fromStatus.Last) {
		return fromStatus
	}
	return kept.failureState
}

// remember stores a streak; a zero streak (after a success) clears it.
func (m *failureMemory) remember(ft *figmav1alpha1.FigmaToken, f failureState) {
	key := types.NamespacedName{Namespace: ft.Namespace, Name: ft.Name}
	m.mu.Lock()
	defer m.mu.Unlock()
	if f.Attempts == 0 {
		delete(m.streaks, key)
		return
	}
	if m.streaks == nil {
		m.streaks = map[types.NamespacedName]rememberedFailure{}
	}
	m.streaks[key] = rememberedFailure{uid: ft.UID, failureState: f}
}

func (m *failureMemory) forget(key types.NamespacedName) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.streaks, key)
}

// ownWrites records, per Secret, the refreshed-at annotation of the operator's last write,
// before the write is sent, so that the watch event of that very write does not start
// another reconcile, however early it arrives.
type ownWrites struct {
	mu          sync.Mutex
	refreshedAt map[types.NamespacedName]string
}

func (w *ownWrites) note(key types.NamespacedName, refreshedAt string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.refreshedAt == nil {
		w.refreshedAt = map[types.NamespacedName]string{}
	}
	w.refreshedAt[key] = refreshedAt
}

// isOwn reports whether an update of the Secret's metadata is the operator's own write: the
// one that set refreshed-at to the value the operator wrote last. (A user's edit of the data
// leaves the annotation as it was.)
func (w *ownWrites) isOwn(key types.NamespacedName, oldAnnotations, newAnnotations map[string]string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	written, ok := w.refreshedAt[key]
	return ok && newAnnotations[figmav1alpha1.AnnotationRefreshedAt] == written &&
		oldAnnotations[figmav1alpha1.AnnotationRefreshedAt] != written
}

// versions remembers, per FigmaToken, the resourceVersion this process last wrote or read
// from the API server, to tell a cached copy that lags behind it.
type versions struct {
	mu   sync.Mutex
	seen map[types.NamespacedName]string
}

func (v *versions) saw(ft *figmav1alpha1.FigmaToken) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.seen == nil {
		v.seen = map[types.NamespacedName]string{}
	}
	v.seen[types.NamespacedName{Namespace: ft.Namespace, Name: ft.Name}] = ft.ResourceVersion
}

// current reports whether the copy is the version last seen, or nothing was seen yet.
func (v *versions) current(ft *figmav1alpha1.FigmaToken) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	seen, ok := v.seen[types.NamespacedName{Namespace: ft.Namespace, Name: ft.Name}]
	return !ok || seen == ft.ResourceVersion
}

func (v *versions) forget(key types.NamespacedName) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.seen, key)
}
