package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/tokensecret"
)

// handover is what connect hands to the operator: the code of one consent, for one
// FigmaToken, through one client.
type handover struct {
	namespace, name, secret string
	client                  figmav1alpha1.ClientRef
	auth                    authorization
	code                    string
}

// secretChanges are the Secret's keys to set and to remove: code, redirectUri and, with
// PKCE, codeVerifier are set. The refresh token is removed, because the operator prefers a
// refresh token to a code and would never exchange this one; a verifier of an earlier
// attempt is removed when this one has none.
func (h handover) secretChanges(refreshTokenKey string) (set map[string][]byte, remove []string) {
	set = map[string][]byte{
		figmav1alpha1.SecretKeyCode:        []byte(h.code),
		figmav1alpha1.SecretKeyRedirectURI: []byte(h.auth.redirectURI),
	}
	remove = []string{refreshTokenKey}
	if h.auth.verifier != "" {
		set[figmav1alpha1.SecretKeyCodeVerifier] = []byte(h.auth.verifier)
	} else {
		remove = append(remove, figmav1alpha1.SecretKeyCodeVerifier)
	}
	return set, remove
}

// handOver points the FigmaToken at the client and writes the code into its Secret, and
// returns the FigmaToken. An existing FigmaToken gets its clientRef first, so that the code
// the Secret write announces is exchanged through that client; a new one is created after
// its Secret, so that its first reconcile finds the code.
func (s *session) handOver(ctx context.Context, out io.Writer, ft *figmav1alpha1.FigmaToken, h handover) (*figmav1alpha1.FigmaToken, error) {
	refreshKey := "refreshToken"
	if ft != nil {
		refreshKey = refreshTokenKey(ft)
		if err := s.pointAtClient(ctx, out, ft, h.client); err != nil {
			return nil, err
		}
	}
	if err := s.writeCode(ctx, out, h, refreshKey); err != nil {
		return nil, err
	}
	if ft != nil {
		return ft, nil
	}
	ft = &figmav1alpha1.FigmaToken{
		ObjectMeta: metav1.ObjectMeta{Namespace: h.namespace, Name: h.name},
		Spec: figmav1alpha1.FigmaTokenSpec{
			SecretRef: figmav1alpha1.SecretRef{Name: figmav1alpha1.DNSSubdomain(h.secret)},
			ClientRef: &figmav1alpha1.ClientRef{Kind: h.client.Kind, Name: h.client.Name},
		},
	}
	if err := s.client.Create(ctx, ft); err != nil {
		return nil, fmt.Errorf("creating FigmaToken %s/%s: %w (the code is in Secret %s)", h.namespace, h.name, err, h.secret)
	}
	fmt.Fprintf(out, "FigmaToken %s/%s created (secretRef %s, clientRef %s/%s)\n", h.namespace, h.name, h.secret, h.client.Kind, h.client.Name)
	return ft, nil
}

// pointAtClient sets spec.clientRef with a merge patch, removing spec.clientId (the API
// refuses both), unless it already names the client.
func (s *session) pointAtClient(ctx context.Context, out io.Writer, ft *figmav1alpha1.FigmaToken, ref figmav1alpha1.ClientRef) error {
	if cur := ft.Spec.ClientRef; cur != nil && clientKind(cur) == ref.Kind && cur.Name == ref.Name && ft.Spec.ClientID == "" {
		return nil
	}
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{
		"clientRef": map[string]string{"kind": ref.Kind, "name": string(ref.Name)},
		"clientId":  nil,
	}})
	if err != nil {
		return err
	}
	if err := s.client.Patch(ctx, ft, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("setting spec.clientRef of FigmaToken %s/%s: %w; nothing else was written", ft.Namespace, ft.Name, err)
	}
	fmt.Fprintf(out, "FigmaToken %s/%s: spec.clientRef set to %s/%s\n", ft.Namespace, ft.Name, ref.Kind, ref.Name)
	return nil
}

// writeCode creates the Secret with the code, or changes only its code keys (and removes
// the refresh token) with a merge patch, leaving every other key, label and annotation.
func (s *session) writeCode(ctx context.Context, out io.Writer, h handover, refreshKey string) error {
	set, remove := h.secretChanges(refreshKey)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: h.namespace, Name: h.secret}}
	err := s.client.Get(ctx, client.ObjectKeyFromObject(secret), secret)
	switch {
	case apierrors.IsNotFound(err):
		secret = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: h.namespace, Name: h.secret}, Type: corev1.SecretTypeOpaque, Data: set}
		if err := s.client.Create(ctx, secret); err != nil {
			return fmt.Errorf("creating Secret %s/%s: %w", h.namespace, h.secret, err)
		}
		fmt.Fprintf(out, "Secret %s/%s created with the code (%s)\n", h.namespace, h.secret, keyNames(set))
		return nil
	case err != nil:
		return fmt.Errorf("reading Secret %s/%s: %w", h.namespace, h.secret, err)
	}
	data := map[string]any{}
	for k, v := range set {
		data[k] = v // []byte marshals as base64, as data wants
	}
	for _, k := range remove {
		data[k] = nil
	}
	patch, err := json.Marshal(map[string]any{"data": data})
	if err != nil {
		return err
	}
	// Read before the patch: Patch replaces secret with what the API server answers.
	replaced := tokensecret.HasValue(secret, refreshKey)
	if err := s.client.Patch(ctx, secret, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("writing the code into Secret %s/%s: %w", h.namespace, h.secret, err)
	}
	line := fmt.Sprintf("Secret %s/%s: the code written (%s)", h.namespace, h.secret, keyNames(set))
	if replaced {
		line += fmt.Sprintf("; the refresh token under %q removed: the new grant replaces it", refreshKey)
	}
	fmt.Fprintln(out, line)
	return nil
}

// keyNames lists a Secret's keys in a fixed order: code, redirectUri, codeVerifier.
func keyNames(data map[string][]byte) string {
	s := ""
	for _, k := range []string{figmav1alpha1.SecretKeyCode, figmav1alpha1.SecretKeyRedirectURI, figmav1alpha1.SecretKeyCodeVerifier} {
		if _, ok := data[k]; ok {
			if s != "" {
				s += ", "
			}
			s += k
		}
	}
	return s
}
