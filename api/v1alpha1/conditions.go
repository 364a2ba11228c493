package v1alpha1

// Condition types, following kstatus conventions.
const (
	// ConditionReady is True while the Secret holds an unexpired access token written by this FigmaToken.
	ConditionReady = "Ready"
	// ConditionStalled is True when nothing will improve without a person.
	ConditionStalled = "Stalled"
	// ConditionReconciling is True while a refresh is retried after a transient failure.
	ConditionReconciling = "Reconciling"
)

// Condition reasons. Ready=False takes the first of these that applies, in this order.
const (
	ReasonRefreshed      = "Refreshed"
	ReasonSuspended      = "Suspended"
	ReasonSecretNotFound = "SecretNotFound"
	ReasonSecretConflict = "SecretConflict"
	// ReasonSecretOverwritten: another writer keeps replacing the token this FigmaToken
	// wrote (Ready while it is gone; Stalled during a fight).
	ReasonSecretOverwritten   = "SecretOverwritten"
	ReasonRefreshTokenMissing = "RefreshTokenMissing"
	// ReasonOAuthClientNotReady: the OAuth client spec.clientRef names may not be used (not
	// found, not allowed in this namespace, its Secret missing), found before any call.
	ReasonOAuthClientNotReady = "OAuthClientNotReady"
	ReasonAWSAccessDenied     = "AWSAccessDenied"
	// ReasonOAuthClientRejected: Figma refused the client ID or secret (invalid_client, 401).
	ReasonOAuthClientRejected = "OAuthClientRejected"
	ReasonRefreshRejected     = "RefreshRejected"
	ReasonRefreshFailed       = "RefreshFailed"
	ReasonExpired             = "Expired"
	ReasonPending             = "Pending"
	// ReasonSecretWriteFailed marks Reconciling while writing the Secret is retried.
	ReasonSecretWriteFailed = "SecretWriteFailed"
	// ReasonRolloutRestartFailed is a Warning Event: a workload could not be restarted.
	ReasonRolloutRestartFailed = "RolloutRestartFailed"
)

// Annotations. The Secret's annotations are the operator's source of truth: they are
// written in the same update as the access token, so they survive a restart.
const (
	// AnnotationRefreshRequestedAt on a FigmaToken: any new value asks for one refresh now.
	AnnotationRefreshRequestedAt = "figma.tokenops.dev/refresh-requested-at"

	AnnotationOwner                 = "figma.tokenops.dev/owner"
	AnnotationExpiresAt             = "figma.tokenops.dev/expires-at"
	AnnotationRefreshedAt           = "figma.tokenops.dev/refreshed-at"
	AnnotationRefreshTokenHash      = "figma.tokenops.dev/refresh-token-hash" //nolint:gosec // an annotation name, not a credential
	AnnotationHandledRefreshRequest = "figma.tokenops.dev/handled-refresh-request"
	// AnnotationAccessTokenHash fingerprints the access token written together with the
	// refreshed-at written beside it: it tells this FigmaToken's token from any other value.
	AnnotationAccessTokenHash = "figma.tokenops.dev/access-token-hash" //nolint:gosec // an annotation name, not a credential
	// AnnotationAccessTokenHashFor is "<refreshed-at> <access-token-hash>": the refreshed-at
	// the hash was computed for.
	// An earlier version of the operator that refreshes keeps the hash it does not know
	// beside a new refreshed-at: this tells its refresh from another writer's value.
	AnnotationAccessTokenHashFor = "figma.tokenops.dev/access-token-hash-for" //nolint:gosec // an annotation name, not a credential
	// AnnotationExpiresAtKey names the key the expiry was last written to (spec.secretRef's
	// expiresAtKey): when that key is renamed or unset, the old key's value goes.
	AnnotationExpiresAtKey = "figma.tokenops.dev/expires-at-key"
	// AnnotationRefreshInFlight and AnnotationRefreshInFlightUntil, on the source Secret: a
	// refresh requested with this refresh-requested-at value is being answered by a call
	// that ends by the time given. Another instance (a shard the FigmaToken moved to) waits
	// for it rather than calling too. The token's write removes them.
	AnnotationRefreshInFlight      = "figma.tokenops.dev/refresh-in-flight"
	AnnotationRefreshInFlightUntil = "figma.tokenops.dev/refresh-in-flight-until"
	// AnnotationTargetOf marks a Secret the operator created for spec.target: the UID of
	// its FigmaToken. Only a Secret with this mark is ever deleted by the operator, and only
	// while spec.secretRef does not name it.
	AnnotationTargetOf = "figma.tokenops.dev/target-of"

	// AnnotationRestartedAt on a rollout restart target's pod template: the refreshed-at
	// time of the token it was restarted for.
	AnnotationRestartedAt = "figma.tokenops.dev/restartedAt"

	// AnnotationPrefix is reserved for the operator on the Secrets it writes.
	AnnotationPrefix = "figma.tokenops.dev/"
)

// Secret keys of the authorization-code bootstrap: a Secret without a refresh token may hold
// an OAuth authorization code and the redirect URI it was issued for. The operator exchanges
// the code once, stores the refresh token and removes the code.
const (
	SecretKeyCode        = "code"
	SecretKeyRedirectURI = "redirectUri"
	// SecretKeyCodeVerifier is the PKCE verifier (RFC 7636) sent with the code to Figma.
	SecretKeyCodeVerifier = "codeVerifier" //nolint:gosec // a key name, not a credential
)

// Reasons of an OAuth client's Ready condition.
const (
	// ReasonUsable: FigmaTokens may refresh through the client.
	ReasonUsable = "Usable"
	// ReasonClientSecretNotFound: the client's Secret, or its key, is missing or empty.
	ReasonClientSecretNotFound = "ClientSecretNotFound"
	// ReasonAmbientIdentityNotAllowed: a namespaced client on the Amplify upstream would
	// sign with the operator's own AWS identity, which the manager does not allow.
	ReasonAmbientIdentityNotAllowed = "AmbientIdentityNotAllowed"
)

// The upstreams, as status.upstream of an OAuth client names them.
const (
	UpstreamFigma   = "Figma"
	UpstreamAmplify = "Amplify"
)

// The kinds spec.clientRef may name.
const (
	KindFigmaOAuthClient        = "FigmaOAuthClient"
	KindClusterFigmaOAuthClient = "ClusterFigmaOAuthClient"
)
