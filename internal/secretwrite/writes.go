package secretwrite

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/tokensecret"
)

// The writes a FigmaToken makes. owner is the FigmaToken. Unless one says otherwise, a
// Secret changed since it was read is returned as the error (IsChanged), nothing written.

// InPlace writes the access token t and its record into the source Secret, leaving every
// other key, label and annotation as it was, but for this FigmaToken's own token under a key
// it no longer writes (accessTokenKey changed), which is removed; after an
// authorization-code exchange, the refresh token goes under refreshTokenKey and the spent
// code is removed in the same update. The ledger books t as written.
func (w *Writer) InPlace(ctx context.Context, owner client.Object, source *corev1.Secret, keys tokensecret.Keys,
	refreshTokenKey string, t Token, rec tokensecret.Record) (*corev1.Secret, error) {
	return w.put(ctx, write{owner: owner, key: client.ObjectKeyFromObject(source), current: source, payload: accessToken,
		token: t, credential: rec.RefreshTokenHash, shape: func(s *corev1.Secret) error {
			if t.RefreshToken != "" {
				tokensecret.StoreRefreshToken(s, refreshTokenKey, t.RefreshToken, t.Spent...)
			}
			tokensecret.RemoveMovedToken(s, keys.AccessToken, string(owner.GetUID()))
			tokensecret.Write(s, keys, t.AccessToken, rec)
			return nil
		}})
}

// Target creates (current nil) or updates owner's target Secret key so that it holds exactly
// what shape asks, the access token t and its record, controlled by owner (so it is
// garbage-collected with it). The ledger books t as written.
func (w *Writer) Target(ctx context.Context, owner client.Object, key types.NamespacedName, current *corev1.Secret,
	shape tokensecret.Target, t Token, rec tokensecret.Record) (*corev1.Secret, error) {
	return w.put(ctx, write{owner: owner, key: key, current: current, payload: accessToken, token: t,
		credential: rec.RefreshTokenHash, shape: func(s *corev1.Secret) error {
			tokensecret.ShapeTarget(s, shape, t.AccessToken, rec)
			return controllerutil.SetControllerReference(owner, s, w.Client.Scheme())
		}})
}

// StoreRefreshToken writes a refresh token an authorization code was exchanged for into the
// source Secret and removes the spent code, for a FigmaToken whose access token goes to a
// target Secret: on whatever version it finds, as the code is spent. The ledger keeps t
// under that refresh token (credential, its fingerprint) from then on.
func (w *Writer) StoreRefreshToken(ctx context.Context, owner client.Object, source *corev1.Secret, key string, t Token, credential string) (*corev1.Secret, error) {
	stored, _, err := w.putAgain(ctx, write{owner: owner, key: client.ObjectKeyFromObject(source), current: source, payload: data,
		shape: func(s *corev1.Secret) error {
			if s.ResourceVersion == "" {
				return apierrors.NewNotFound(corev1.Resource("secrets"), source.Name)
			}
			tokensecret.StoreRefreshToken(s, key, t.RefreshToken, t.Spent...)
			return nil
		}}, func(current *corev1.Secret) bool { return current != nil })
	if err != nil {
		return nil, err
	}
	if stored == nil {
		return nil, apierrors.NewNotFound(corev1.Resource("secrets"), source.Name)
	}
	t.RefreshToken, t.CredentialHash = "", credential
	w.Keep(owner, t)
	return stored, nil
}

// Reshape brings an owned target Secret back to shape, keeping the token and record it
// holds; nothing is sent when it already is. A conflict is left to the next reconcile.
func (w *Writer) Reshape(ctx context.Context, owner client.Object, target *corev1.Secret, shape tokensecret.Target, rec tokensecret.Record) (bool, error) {
	uid := string(owner.GetUID())
	if !tokensecret.Reshape(target.DeepCopy(), shape, rec, uid) {
		return false, nil
	}
	_, err := w.put(ctx, write{owner: owner, key: client.ObjectKeyFromObject(target), current: target, payload: data,
		shape: func(s *corev1.Secret) error {
			tokensecret.Reshape(s, shape, rec, uid)
			return nil
		}})
	if IsChanged(err) {
		return false, nil
	}
	return err == nil, err
}

// ReshapeSource brings the source Secret to what the spec's keys ask, with the token it
// holds (moved to a new accessTokenKey, its expiry under expiresAtKey); nothing is sent when
// it already is. A conflict is left to the next reconcile.
func (w *Writer) ReshapeSource(ctx context.Context, owner client.Object, source *corev1.Secret, keys tokensecret.Keys) (*corev1.Secret, bool, error) {
	uid := string(owner.GetUID())
	if !tokensecret.ReshapeSource(source.DeepCopy(), keys, uid) {
		return source, false, nil
	}
	reshaped, err := w.put(ctx, write{owner: owner, key: client.ObjectKeyFromObject(source), current: source, payload: data,
		shape: func(s *corev1.Secret) error {
			tokensecret.ReshapeSource(s, keys, uid)
			return nil
		}})
	if IsChanged(err) {
		return source, false, nil
	}
	return reshaped, err == nil, err
}

// Release takes owner's target-of mark and ownerReference off a Secret it created as a
// target that spec.secretRef names now (tokensecret.Release), so that it is not deleted with
// owner; every other field is left as it was. A Secret found changed is released if it
// still was made as owner's target (tokensecret.MadeAsTarget).
func (w *Writer) Release(ctx context.Context, owner client.Object, source *corev1.Secret) (*corev1.Secret, bool, error) {
	uid := string(owner.GetUID())
	return w.putAgain(ctx, write{owner: owner, key: client.ObjectKeyFromObject(source), current: source, payload: metadata,
		shape: func(s *corev1.Secret) error {
			tokensecret.Release(s, uid)
			return nil
		}}, func(current *corev1.Secret) bool { return current != nil && tokensecret.MadeAsTarget(current, uid) })
}

// NoteInFlight writes into the source Secret that owner's requested refresh is in flight
// (tokensecret.InFlight), before the call, so that another instance waits for its answer.
func (w *Writer) NoteInFlight(ctx context.Context, owner client.Object, source *corev1.Secret, f tokensecret.InFlight) (*corev1.Secret, error) {
	return w.put(ctx, write{owner: owner, key: client.ObjectKeyFromObject(source), current: source, payload: metadata,
		shape: func(s *corev1.Secret) error {
			if s.Annotations == nil {
				s.Annotations = map[string]string{}
			}
			tokensecret.NoteInFlight(s.Annotations, f)
			return nil
		}})
}

// ClearInFlight removes the note of a requested refresh in flight from the source Secret,
// also from a version found changed that still has one.
func (w *Writer) ClearInFlight(ctx context.Context, owner client.Object, source *corev1.Secret) error {
	noted := func(s *corev1.Secret) bool { return s != nil && tokensecret.ReadInFlight(s.Annotations).Request != "" }
	if !noted(source) {
		return nil
	}
	_, _, err := w.putAgain(ctx, write{owner: owner, key: client.ObjectKeyFromObject(source), current: source, payload: metadata,
		shape: func(s *corev1.Secret) error {
			tokensecret.NoteInFlight(s.Annotations, tokensecret.InFlight{})
			return nil
		}}, noted)
	return err
}

// Claim makes a Secret that other FigmaTokens name too owner's before any upstream call: an
// update of the owner annotation alone, carrying the resourceVersion read, so exactly one
// claim lands.
func (w *Writer) Claim(ctx context.Context, owner client.Object, source *corev1.Secret) (*corev1.Secret, error) {
	return w.put(ctx, write{owner: owner, key: client.ObjectKeyFromObject(source), current: source, payload: metadata,
		shape: func(s *corev1.Secret) error {
			if s.Annotations == nil {
				s.Annotations = map[string]string{}
			}
			s.Annotations[figmav1alpha1.AnnotationOwner] = owner.GetName()
			return nil
		}})
}

// AddAccessTokenHash adopts the token an earlier version of the operator wrote into secret
// (under key): it adds the access-token-hash for the value and refreshed-at found, in one
// update.
func (w *Writer) AddAccessTokenHash(ctx context.Context, owner client.Object, secret *corev1.Secret, key string) (*corev1.Secret, error) {
	return w.put(ctx, write{owner: owner, key: client.ObjectKeyFromObject(secret), current: secret, payload: data,
		shape: func(s *corev1.Secret) error {
			tokensecret.AddAccessTokenHash(s, key, string(owner.GetUID()))
			return nil
		}})
}

// Delete deletes a Secret owner created, if it is still the one of that UID at that
// resourceVersion: one changed since (released as the source, say) is left, and the
// conflict returned, for a retried reconcile to judge it afresh.
func (w *Writer) Delete(ctx context.Context, key types.NamespacedName, uid types.UID, resourceVersion string) error {
	stale := &corev1.Secret{}
	stale.Namespace, stale.Name = key.Namespace, key.Name
	return client.IgnoreNotFound(w.Client.Delete(ctx, stale, client.Preconditions{UID: &uid, ResourceVersion: &resourceVersion}))
}
