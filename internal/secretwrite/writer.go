// Package secretwrite is the one way the operator writes Secrets. A Writer sends every
// create and update with the resourceVersion read and under the operator's field manager.
// A Secret that changed meanwhile is an outcome, not a retry: the write returns the conflict
// (IsChanged), and the reconcile looks at the Secret again and decides anew. Only where the
// writer's own rule suffices does it re-read and write again (a refresh token an exchange
// returned is stored on whatever version is found, as its code is spent; a release or the
// removal of a note in flight while the Secret still calls for it).
//
// A Writer keeps one ledger per FigmaToken (ledger.go), booked by the writes themselves: the
// token obtained, so that neither a failed write nor another writer's overwrite ever costs a
// second upstream call; the Secrets it wrote; its own writes, so that their watch events
// start no reconcile; and what other writers did to the token.
//
// What to write, and whether it is allowed, is the caller's to decide (internal/policy,
// internal/tokensecret); a Writer only carries it out.
package secretwrite

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/tokensecret"
)

// FieldManager marks every Secret write of the operator in managedFields.
const FieldManager = tokensecret.FieldManager

// Writer writes Secrets for FigmaTokens. The zero value is not usable: set Client and Reader.
type Writer struct {
	// Client creates, updates and deletes Secrets.
	Client client.Client
	// Reader reads Secrets from the API server: their data is never cached.
	Reader client.Reader
	// Clock times the overwrites and rewrites of the ledger; nil is the real clock.
	Clock clock.PassiveClock

	mu sync.Mutex
	// own maps a Secret to the operator's last write of it.
	own map[types.NamespacedName]ownWrite
	// owners are the FigmaTokens' ledgers.
	owners map[types.NamespacedName]*ledger
}

// IsChanged reports whether a write met a Secret that changed since it was read (a conflict,
// or a create that found it created): look again.
func IsChanged(err error) bool { return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) }

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

// What a write puts into a Secret, for the ledger.
type payload int

const (
	// metadata: no token (a claim, the note of a call in flight, a release); it does not
	// count as owner having written the Secret, so a Secret without owner's token is not
	// taken for one another writer overwrote.
	metadata payload = iota
	// data: owner's token as it is (a reshape, an adoption, a stored refresh token).
	data
	// accessToken: a token just obtained or kept, booked in the ledger (booked).
	accessToken
)

// write is one write of a Secret for owner: shape changes a copy of current (a new Secret
// when current is nil), which is then created or updated with current's resourceVersion.
// It returns the Secret as written; a Secret changed meanwhile is returned as the error
// (IsChanged).
type write struct {
	owner   client.Object
	key     types.NamespacedName
	current *corev1.Secret
	shape   func(*corev1.Secret) error
	payload payload
	// token and credential are booked for an accessToken write.
	token      Token
	credential string
}

// put sends w once.
func (w *Writer) put(ctx context.Context, wr write) (*corev1.Secret, error) {
	secret := &corev1.Secret{}
	secret.Namespace, secret.Name = wr.key.Namespace, wr.key.Name
	if wr.current != nil {
		secret = wr.current.DeepCopy()
	}
	if err := wr.shape(secret); err != nil {
		return nil, err
	}
	// Noted before it is sent, so its watch event is recognized however early it arrives.
	w.noteWrite(wr.owner, wr.key, secret.Annotations[figmav1alpha1.AnnotationRefreshedAt])
	var err error
	if wr.current == nil {
		err = w.Client.Create(ctx, secret, client.FieldOwner(FieldManager))
	} else {
		err = w.Client.Update(ctx, secret, client.FieldOwner(FieldManager))
	}
	if err != nil {
		return nil, err
	}
	w.wrote(wr, secret.ResourceVersion)
	return secret, nil
}

// putAgain sends wr and, while the Secret changed meanwhile and still (as re-read) calls for
// it, sends it again on the version found; it reports whether the write landed.
func (w *Writer) putAgain(ctx context.Context, wr write, still func(*corev1.Secret) bool) (*corev1.Secret, bool, error) {
	var written *corev1.Secret
	gaveUp := false
	err := retry.OnError(retry.DefaultRetry, IsChanged, func() error {
		var err error
		if written, err = w.put(ctx, wr); !IsChanged(err) {
			return err
		}
		current, readErr := w.Read(ctx, wr.key)
		if readErr != nil {
			return readErr
		}
		if !still(current) {
			gaveUp = true
			return nil
		}
		wr.current = current
		return err
	})
	return written, err == nil && !gaveUp, err
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

// wrote books a write that landed as resourceVersion: the own-write note, the Secret owner
// wrote its token into, and an access token in the ledger.
func (w *Writer) wrote(wr write, resourceVersion string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if note, ok := w.own[wr.key]; ok {
		note.resourceVersion = resourceVersion
		w.own[wr.key] = note
	}
	e := w.entry(wr.owner)
	if wr.payload != metadata && !slices.Contains(e.wrote, wr.key) {
		e.wrote = append(e.wrote, wr.key)
	}
	if wr.payload == accessToken {
		e.booked(wr.token, wr.credential, w.now())
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

// dropNotes removes the own-write notes of a ledger; w.mu must be held.
func (w *Writer) dropNotes(e *ledger) {
	for _, secret := range e.noted {
		delete(w.own, secret)
	}
}

func (w *Writer) now() time.Time {
	if w.Clock == nil {
		return time.Now()
	}
	return w.Clock.Now()
}
