package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
	"github.com/tokenops/figma-token-operator/internal/policy"
	"github.com/tokenops/figma-token-operator/internal/tokensecret"
	"github.com/tokenops/figma-token-operator/internal/upstream"
)

// OAuthClients resolves the OAuth client a FigmaToken names (spec.clientRef) into the
// upstream its refreshes go through, and says whether a client may be used. The FigmaToken
// reconciler and the OAuth client reconciler share it, so both judge a client alike.
type OAuthClients struct {
	// Client reads client objects and Namespace metadata from the cache.
	Client client.Reader
	// Secrets reads client secrets: from the API server, never an informer.
	Secrets *ClientSecrets
	// Amplify is the Amplify upstream; nil when the manager has no AWS region.
	Amplify upstream.Refresher
	// Figma is Figma's OAuth endpoints (--figma-endpoint).
	Figma upstream.Refresher
	// ClusterResourceNamespace holds the Secrets of ClusterFigmaOAuthClients
	// (--cluster-resource-namespace); "" when unknown.
	ClusterResourceNamespace string
	// ClusterClients: the manager may read ClusterFigmaOAuthClients and Namespaces (the
	// namespaced install may lack that grant).
	ClusterClients bool
	// NamespacedAmbientIdentity lets a FigmaOAuthClient on the Amplify upstream sign with the
	// operator's own AWS identity (--namespaced-clients-ambient-identity).
	NamespacedAmbientIdentity bool
	// RequireClientRef refuses FigmaTokens without spec.clientRef (--require-client-ref)
	// rather than sign their calls with the operator's own AWS identity.
	RequireClientRef bool
}

// route is how a FigmaToken's refreshes reach their upstream: the implementation, the OAuth
// client sent, and what policy may know of them.
type route struct {
	// via is the upstream's name: Amplify or Figma.
	via      string
	upstream upstream.Refresher
	client   upstream.Client
	seen     policy.Route
}

// noRegionMessage says why the Amplify upstream is off.
const noRegionMessage = "The Amplify upstream is off: the manager has no AWS region. Set --aws-region or AWS_REGION on the manager, or refresh through Figma's own OAuth endpoints with spec.clientRef naming a FigmaOAuthClient or ClusterFigmaOAuthClient."

// route resolves spec.clientRef. A client this FigmaToken may not use gives a route that is
// blocked (seen.Blocked), found before any call; err is for failed reads only.
func (c *OAuthClients) route(ctx context.Context, ft *figmav1alpha1.FigmaToken) (route, error) {
	ref := ft.Spec.ClientRef
	if ref == nil && c.RequireClientRef {
		return route{seen: policy.Route{Blocked: figmav1alpha1.ReasonOAuthClientNotReady,
			Message: "This manager requires spec.clientRef (--require-client-ref): name a FigmaOAuthClient of namespace " + ft.Namespace + " or a ClusterFigmaOAuthClient that admits it, instead of the operator's own AWS identity."}}, nil
	}
	if ref == nil {
		rt := route{via: figmav1alpha1.UpstreamAmplify, upstream: c.Amplify, client: upstream.Client{ID: ft.Spec.ClientID}}
		if c.Amplify == nil {
			rt.seen = policy.Route{Blocked: figmav1alpha1.ReasonAWSAccessDenied, Message: noRegionMessage}
		}
		return rt, nil
	}
	kind := refKind(ref)
	name := fmt.Sprintf("%s %s", kind, ref.Name)
	notReady := func(format string, args ...any) (route, error) {
		return route{seen: policy.Route{Client: name, Blocked: figmav1alpha1.ReasonOAuthClientNotReady,
			Message: fmt.Sprintf(format, args...)}}, nil
	}
	var obj client.Object
	var spec figmav1alpha1.OAuthClientSpec
	var secretNamespace string
	switch kind {
	case figmav1alpha1.KindClusterFigmaOAuthClient:
		if !c.ClusterClients {
			return notReady("%s cannot be used: this manager may not read ClusterFigmaOAuthClients and Namespaces (a namespaced install without the cluster-wide grant for them); name a FigmaOAuthClient of namespace %s instead.", name, ft.Namespace)
		}
		cc := &figmav1alpha1.ClusterFigmaOAuthClient{}
		if err := c.Client.Get(ctx, types.NamespacedName{Name: string(ref.Name)}, cc); err != nil {
			if apierrors.IsNotFound(err) {
				return notReady("%s not found: create it, or name another client in spec.clientRef.", name)
			}
			return route{}, fmt.Errorf("reading %s: %w", name, err)
		}
		admitted, err := c.admits(ctx, cc, ft.Namespace)
		if err != nil {
			return route{}, err
		}
		if !admitted {
			return notReady("%s does not admit namespace %s: its spec.namespaceSelector does not match the namespace's labels. Ask the platform team to admit the namespace, or name another client.", name, ft.Namespace)
		}
		obj, spec, secretNamespace = cc, cc.Spec.OAuthClientSpec, c.ClusterResourceNamespace
	default:
		// Always the FigmaToken's own namespace: clientRef has no namespace field.
		fc := &figmav1alpha1.FigmaOAuthClient{}
		if err := c.Client.Get(ctx, types.NamespacedName{Namespace: ft.Namespace, Name: string(ref.Name)}, fc); err != nil {
			if apierrors.IsNotFound(err) {
				return notReady("%s not found in namespace %s: create it there, or name another client in spec.clientRef.", name, ft.Namespace)
			}
			return route{}, fmt.Errorf("reading %s: %w", name, err)
		}
		obj, spec, secretNamespace = fc, fc.Spec, ft.Namespace
	}
	namespace := ""
	if kind == figmav1alpha1.KindFigmaOAuthClient {
		namespace = ft.Namespace
	}
	usable, err := c.check(ctx, spec, secretNamespace, namespace)
	if err != nil {
		return route{}, fmt.Errorf("reading the Secret of %s: %w", name, err)
	}
	rt := route{via: usable.via, upstream: usable.upstream, client: usable.client, seen: policy.Route{Client: name,
		Version: fingerprint(kind, obj.GetName(), string(obj.GetUID()), fmt.Sprint(obj.GetGeneration()), usable.secretVersion)}}
	switch {
	case usable.reason == figmav1alpha1.ReasonAWSAccessDenied:
		rt.seen.Blocked, rt.seen.Message = usable.reason, noRegionMessage
	case usable.reason != "":
		rt.seen.Blocked, rt.seen.Message = figmav1alpha1.ReasonOAuthClientNotReady, name+" is not ready: "+usable.message
	}
	return rt, nil
}

// op names a refresh through the route in errors, as its upstream does.
func (rt route) op() string {
	if rt.via == figmav1alpha1.UpstreamFigma {
		return "Figma OAuth refresh"
	}
	return "RefreshToken"
}

// refKind is clientRef's kind, FigmaOAuthClient when unset.
func refKind(ref *figmav1alpha1.ClientRef) string {
	if ref.Kind == "" {
		return figmav1alpha1.KindFigmaOAuthClient
	}
	return ref.Kind
}

// admits reports whether a cluster client's namespaceSelector matches the labels of
// namespace (absent: every namespace).
func (c *OAuthClients) admits(ctx context.Context, cc *figmav1alpha1.ClusterFigmaOAuthClient, namespace string) (bool, error) {
	if cc.Spec.NamespaceSelector == nil {
		return true, nil
	}
	selector, err := metav1.LabelSelectorAsSelector(cc.Spec.NamespaceSelector)
	if err != nil {
		return false, nil // admits nothing; the CRD cannot check a selector's values
	}
	ns := namespaceMetadata()
	if err := c.Client.Get(ctx, types.NamespacedName{Name: namespace}, ns); err != nil {
		return false, fmt.Errorf("reading the labels of namespace %s: %w", namespace, err)
	}
	return selector.Matches(labels.Set(ns.GetLabels())), nil
}

// usability is a client's verdict: usable (reason "") with its upstream and credentials,
// or why not.
type usability struct {
	via           string
	upstream      upstream.Refresher
	client        upstream.Client
	secretVersion string
	// reason is ClientSecretNotFound, AmbientIdentityNotAllowed or (no AWS region)
	// AWSAccessDenied; message says what is wrong, never the secret.
	reason, message string
}

// check judges a client's spec: its Secret (in secretNamespace) for Figma, the identity it
// would sign with for Amplify. namespace is a FigmaOAuthClient's, "" for a cluster client.
func (c *OAuthClients) check(ctx context.Context, spec figmav1alpha1.OAuthClientSpec, secretNamespace, namespace string) (usability, error) {
	if spec.Amplify != nil {
		switch {
		case c.Amplify == nil:
			return usability{reason: figmav1alpha1.ReasonAWSAccessDenied, message: noRegionMessage}, nil
		case spec.Amplify.RoleARN != "":
			return usability{via: figmav1alpha1.UpstreamAmplify, upstream: c.Amplify,
				client: upstream.Client{ID: spec.ClientID, Role: roleFor(spec.Amplify.RoleARN, namespace)}}, nil
		case namespace != "" && !c.NamespacedAmbientIdentity:
			return usability{reason: figmav1alpha1.ReasonAmbientIdentityNotAllowed,
				message: "a FigmaOAuthClient on the Amplify upstream without amplify.roleArn would sign with the operator's own AWS identity, which the manager allows only with --namespaced-clients-ambient-identity; set amplify.roleArn to a role whose trust policy admits the ExternalId figma.tokenops.dev/" + namespace + ", use the Figma upstream (spec.figma), or ask the platform team for a ClusterFigmaOAuthClient."}, nil
		}
		return usability{via: figmav1alpha1.UpstreamAmplify, upstream: c.Amplify, client: upstream.Client{ID: spec.ClientID}}, nil
	}
	ref := spec.Figma.ClientSecretRef
	key := string(ref.Key)
	if key == "" {
		key = "clientSecret"
	}
	if secretNamespace == "" {
		return usability{reason: figmav1alpha1.ReasonClientSecretNotFound,
			message: "the cluster resource namespace, where the Secrets of ClusterFigmaOAuthClients live, is unknown: run the manager with --cluster-resource-namespace or POD_NAMESPACE."}, nil
	}
	secret, version, err := c.Secrets.value(ctx, types.NamespacedName{Namespace: secretNamespace, Name: string(ref.Name)}, key)
	switch {
	case apierrors.IsForbidden(err):
		return usability{reason: figmav1alpha1.ReasonClientSecretNotFound,
			message: fmt.Sprintf("the operator may not read Secret %s in namespace %s: grant its ServiceAccount get, list and watch on Secrets there (a Role; a namespaced install has none in that namespace).", ref.Name, secretNamespace)}, nil
	case err != nil:
		return usability{}, err
	}
	if secret == "" {
		return usability{reason: figmav1alpha1.ReasonClientSecretNotFound,
			message: fmt.Sprintf("Secret %s in namespace %s has no client secret under key %s (the Secret or the key is missing, or empty): put the Figma OAuth app's client secret there.", ref.Name, secretNamespace, key)}, nil
	}
	return usability{via: figmav1alpha1.UpstreamFigma, upstream: c.Figma, client: upstream.Client{ID: spec.ClientID, Secret: secret}, secretVersion: version}, nil
}

// roleFor is the role a client's Amplify calls are signed as: with the ExternalId of its
// namespace for a FigmaOAuthClient (namespace ""), so that a role trusts one namespace only,
// and a session named for the namespace, so that CloudTrail shows the tenant.
func roleFor(arn, namespace string) upstream.Role {
	if namespace == "" {
		return upstream.Role{ARN: arn, SessionName: "figma-token-operator-cluster"}
	}
	session := "figma-token-operator-" + namespace
	if len(session) > 64 { // STS's limit for RoleSessionName
		session = session[:64]
	}
	return upstream.Role{ARN: arn, ExternalID: "figma.tokenops.dev/" + namespace, SessionName: session}
}

// fingerprint is 16 hex digits of a SHA-256 over parts: a version to compare, no secret in it.
func fingerprint(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// namespaceMetadata is the cache's metadata-only view of a Namespace.
func namespaceMetadata() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	return m
}

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
