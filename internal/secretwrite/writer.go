// Package secretwrite is the one way the operator writes Secrets. A Writer sends every
// create and update with the resourceVersion read and under the operator's field manager;
// on a conflict it re-reads the Secret and asks whether it may still write it (the caller's
// Recheck; a reshape leaves it to the next reconcile, and a refresh token an exchange
// returned is stored on whatever version is found, as its code is spent), then writes again
// what it already holds. It notes its own writes, so that their watch
// events start no reconcile, and keeps the tokens obtained (kept.go), so that neither a
// failed write nor another writer's overwrite ever costs a second upstream call.
//
// What to write, and whether it is allowed, is the caller's to decide (internal/policy,
// internal/tokensecret); a Writer only carries it out.
package secretwrite

import (
	"context"
	"fmt"
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// FieldManager marks every Secret write of the operator in managedFields, so that the
// writes of others can be told apart and named.
const FieldManager = "figma-token-operator"

// Writer writes Secrets for FigmaTokens. The zero value is not usable: set Client and Reader.
type Writer struct {
	// Client creates, updates and deletes Secrets.
	Client client.Client
	// Reader reads Secrets from the API server: their data is never cached.
	Reader client.Reader

	mu sync.Mutex
	// own maps a Secret to the operator's last write of it.
	own map[types.NamespacedName]ownWrite
	// owners are the FigmaTokens' entries: the Secrets they wrote and the token kept.
	owners map[types.NamespacedName]*ownerEntry
}

// ownerEntry is what a Writer holds for one FigmaToken (of one UID).
type ownerEntry struct {
	uid types.UID
	// noted are the Secrets with an own-write note; wrote those whose write landed.
	noted, wrote []types.NamespacedName
	kept         *Token
}

// Recheck is asked, after a conflict, whether the Secret as re-read (nil when it is gone)
// may still be written.
type Recheck func(current *corev1.Secret) (bool, error)

// Read gets a Secret from the API server; nil when it does not exist.
func (w *Writer) Read(ctx context.Context, key types.NamespacedName) (*corev1.Secret, error) {
	secret := &corev1.Secret{}
	if err := w.Reader.Get(ctx, key, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading Secret %s: %w", key, err)
	}
	return secret, nil
}

// Put writes one Secret for owner: shape changes a copy of current (a new Secret when current
// is nil), which is then created or updated with current's resourceVersion. When the Secret
// changed meanwhile (a conflict, or a create that found it created), Put re-reads it, asks
// recheck, and shapes and writes again on the version found. It returns the Secret as last
// written or read, and whether the write landed (false with a nil error when recheck said no).
func (w *Writer) Put(ctx context.Context, owner client.Object, key types.NamespacedName, current *corev1.Secret,
	shape func(*corev1.Secret) error, recheck Recheck) (*corev1.Secret, bool, error) {
	return w.put(ctx, owner, key, current, shape, recheck, true)
}

// putMetadata is Put for a write that puts no token into the Secret (a claim, the note of a
// call in flight, a release): it does not count as owner having written the Secret (Wrote),
// so a Secret without owner's token is not taken for one another writer overwrote.
func (w *Writer) putMetadata(ctx context.Context, owner client.Object, key types.NamespacedName, current *corev1.Secret,
	shape func(*corev1.Secret) error, recheck Recheck) (*corev1.Secret, bool, error) {
	return w.put(ctx, owner, key, current, shape, recheck, false)
}

func (w *Writer) put(ctx context.Context, owner client.Object, key types.NamespacedName, current *corev1.Secret,
	shape func(*corev1.Secret) error, recheck Recheck, token bool) (*corev1.Secret, bool, error) {
	changed := func(err error) bool { return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) }
	mayWrite := true
	var written *corev1.Secret
	err := retry.OnError(retry.DefaultRetry, changed, func() error {
		err := w.send(ctx, owner, key, current, shape, &written, token)
		if !changed(err) {
			return err
		}
		var readErr error
		if current, readErr = w.Read(ctx, key); readErr != nil {
			return readErr
		}
		if mayWrite, readErr = recheck(current); readErr != nil || !mayWrite {
			return readErr
		}
		return err
	})
	if err == nil && mayWrite {
		return written, true, nil
	}
	return current, false, err
}

// send shapes and sends one create or update, noting it as the operator's own first.
func (w *Writer) send(ctx context.Context, owner client.Object, key types.NamespacedName, current *corev1.Secret,
	shape func(*corev1.Secret) error, written **corev1.Secret, token bool) error {
	secret := &corev1.Secret{}
	secret.Namespace, secret.Name = key.Namespace, key.Name
	if current != nil {
		secret = current.DeepCopy()
	}
	if err := shape(secret); err != nil {
		return err
	}
	// Noted before it is sent, so its watch event is recognized however early it arrives.
	w.noteWrite(owner, key, secret.Annotations[figmav1alpha1.AnnotationRefreshedAt])
	var err error
	if current == nil {
		err = w.Client.Create(ctx, secret, client.FieldOwner(FieldManager))
	} else {
		err = w.Client.Update(ctx, secret, client.FieldOwner(FieldManager))
	}
	if err == nil {
		*written = secret
		w.wrote(owner, key, secret.ResourceVersion, token)
	}
	return err
}

// entry returns owner's entry, a fresh one for a new UID; w.mu must be held.
func (w *Writer) entry(owner client.Object) *ownerEntry {
	key := client.ObjectKeyFromObject(owner)
	e := w.owners[key]
	if e == nil || e.uid != owner.GetUID() {
		if e != nil {
			w.dropNotes(e)
		}
		if w.owners == nil {
			w.owners = map[types.NamespacedName]*ownerEntry{}
		}
		e = &ownerEntry{uid: owner.GetUID()}
		w.owners[key] = e
	}
	return e
}

// ownWrite is the operator's last write of a Secret, for IsOwnWrite: the refreshed-at it
// sets, and the resourceVersion the API server gave it ("" while it is in flight).
type ownWrite struct{ refreshedAt, resourceVersion string }

// noteWrite records the refreshed-at a write of secret sets, for IsOwnWrite.
func (w *Writer) noteWrite(owner client.Object, secret types.NamespacedName, refreshedAt string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	e := w.entry(owner)
	if !slices.Contains(e.noted, secret) {
		e.noted = append(e.noted, secret)
	}
	if w.own == nil {
		w.own = map[types.NamespacedName]ownWrite{}
	}
	w.own[secret] = ownWrite{refreshedAt: refreshedAt}
}

// wrote records that a write of secret for owner landed as resourceVersion, and, when it
// put owner's token there, that owner wrote the Secret.
func (w *Writer) wrote(owner client.Object, secret types.NamespacedName, resourceVersion string, token bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if note, ok := w.own[secret]; ok {
		note.resourceVersion = resourceVersion
		w.own[secret] = note
	}
	if e := w.entry(owner); token && !slices.Contains(e.wrote, secret) {
		e.wrote = append(e.wrote, secret)
	}
}

// IsOwnWrite reports whether an update of a Secret's metadata is the operator's own write
// and nothing else: the one that set refreshed-at to the value the operator wrote last (an
// edit of the data by another writer leaves the annotation as it was), to the very
// resourceVersion that write got. After a broken watch the informer relists and reports
// one update from the last version it saw to the current one: when that merges the
// operator's write with another writer's later change (a rotated refresh token), the
// resourceVersion is the later one and the event goes through.
func (w *Writer) IsOwnWrite(old, updated metav1.Object) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	note, ok := w.own[types.NamespacedName{Namespace: updated.GetNamespace(), Name: updated.GetName()}]
	return ok && updated.GetAnnotations()[figmav1alpha1.AnnotationRefreshedAt] == note.refreshedAt &&
		old.GetAnnotations()[figmav1alpha1.AnnotationRefreshedAt] != note.refreshedAt &&
		// An event that outruns the write's answer is taken as the write's own.
		(note.resourceVersion == "" || note.resourceVersion == updated.GetResourceVersion())
}

// dropNotes removes the own-write notes of an entry; w.mu must be held.
func (w *Writer) dropNotes(e *ownerEntry) {
	for _, secret := range e.noted {
		delete(w.own, secret)
	}
}

// Forget drops everything held for a FigmaToken that is gone.
func (w *Writer) Forget(owner types.NamespacedName) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if e := w.owners[owner]; e != nil {
		w.dropNotes(e)
	}
	delete(w.owners, owner)
}

// Size is how many FigmaTokens and Secrets the Writer holds notes for, for tests.
func (w *Writer) Size() (owners, secrets int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.owners), len(w.own)
}

// Unwrote forgets that owner wrote secret: the Secret was handed over to another FigmaToken,
// so a Secret without owner's token is no longer one another writer overwrote.
func (w *Writer) Unwrote(owner client.Object, secret types.NamespacedName) {
	w.mu.Lock()
	defer w.mu.Unlock()
	e := w.entry(owner)
	e.wrote = slices.DeleteFunc(e.wrote, func(s types.NamespacedName) bool { return s == secret })
}

// Wrote reports whether a write of secret for owner (of its UID) landed in this process.
func (w *Writer) Wrote(owner client.Object, secret types.NamespacedName) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Contains(w.entry(owner).wrote, secret)
}
