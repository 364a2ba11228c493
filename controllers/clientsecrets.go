package controllers

import (
	"context"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tokenops/figma-token-operator/internal/tokensecret"
)

// ClientSecrets reads the client secrets of OAuth clients straight from the API server
// (no informer ever holds Secret data) and keeps each in memory while its Secret's
// resourceVersion, as the metadata cache shows it, is unchanged: one read per change of the
// Secret, whichever FigmaTokens use it.
type ClientSecrets struct {
	// Reader reads Secrets from the API server.
	Reader client.Reader
	// Metadata is the cache of Secret metadata; a Secret outside it is read every time.
	Metadata client.Reader

	mu   sync.Mutex
	kept map[secretKey]keptSecret
}

type secretKey struct {
	secret types.NamespacedName
	key    string
}

type keptSecret struct{ version, value string }

// value is the text under key of a Secret, "" when the Secret or the key is missing, empty
// or not text, with the Secret's resourceVersion.
func (s *ClientSecrets) value(ctx context.Context, name types.NamespacedName, key string) (string, string, error) {
	k := secretKey{secret: name, key: key}
	meta := secretMetadata()
	cached := s.Metadata.Get(ctx, name, meta)
	switch {
	case apierrors.IsNotFound(cached):
		s.forget(k)
		return "", "", nil
	case cached == nil:
		s.mu.Lock()
		kept, ok := s.kept[k]
		s.mu.Unlock()
		if ok && kept.version == meta.GetResourceVersion() {
			return kept.value, kept.version, nil
		}
	}
	secret := &corev1.Secret{}
	if err := s.Reader.Get(ctx, name, secret); err != nil {
		if apierrors.IsNotFound(err) {
			s.forget(k)
			return "", "", nil
		}
		return "", "", err
	}
	// As a refresh token is read: text, surrounding whitespace (a newline from a file) dropped.
	value := tokensecret.Text(secret, key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kept == nil {
		s.kept = map[secretKey]keptSecret{}
	}
	s.kept[k] = keptSecret{version: secret.ResourceVersion, value: value}
	return value, secret.ResourceVersion, nil
}

func (s *ClientSecrets) forget(k secretKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.kept, k)
}
