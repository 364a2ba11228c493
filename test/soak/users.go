package main

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// What users do, per minute, as shares of the Secrets or FigmaTokens.
const (
	rotateShare = 0.05 // a new refresh token
	editShare   = 0.05 // another key, a label and an annotation changed
	forceShare  = 0.02 // refresh-requested-at set
	// churnEvery one FigmaToken is deleted (its Secret stays) and a new one created.
	churnEvery = 15 * time.Second
	// editKey, editLabel and editAnnotation are the users' own: the operator must leave them.
	editKey        = "note"
	editLabel      = "soak.example/edit"
	editAnnotation = "soak.example/edit"
)

// users act on the Secrets and FigmaTokens and remember what they wrote, which is what the
// checker expects to find.
type users struct {
	s       *soak
	mu      sync.Mutex
	secrets map[string]*secretState
	created int

	rotations []rotation
	forced    []*forcedRefresh
	// overwrites are the other writers' changes; restores, how long the operator took to
	// undo each, in seconds.
	overwrites []*overwrite
	restores   []float64
}

// secretState is what users last wrote to a Secret.
type secretState struct {
	refreshToken string
	edit         string // the value of editKey, editLabel and editAnnotation
	busy         bool   // a user write is in flight: not checked meanwhile
	writes       int    // user writes begun, to tell a write that overlapped a check
	figmaToken   bool   // its FigmaToken exists
	since        time.Time
}

type rotation struct {
	secret, token string
	at            time.Time
}

type forcedRefresh struct {
	name, stamp, token string
	at, handled        time.Time
	// due is the FigmaToken's nextRefreshTime when the refresh was requested: a routine
	// refresh may come due in the same moment, a call of its own.
	due time.Time
}

func refreshTokenFor(name string, generation int) string {
	return fmt.Sprintf("soakrt-%s-%d", name, generation)
}

// populate creates N Secrets and FigmaTokens and waits until all are Ready.
func (s *soak) populate(ctx context.Context) error {
	if err := s.client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); err != nil {
		return err
	}
	s.users.secrets = map[string]*secretState{}
	logf("creating %d Secrets and FigmaTokens", s.cfg.n)
	for range s.cfg.n {
		if err := s.users.create(ctx); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		var list figmav1alpha1.FigmaTokenList
		if err := s.client.List(ctx, &list, client.InNamespace(namespace)); err != nil {
			return err
		}
		if ready(list.Items) == s.cfg.n {
			logf("all %d Ready; faults and users start", s.cfg.n)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d FigmaTokens Ready after 5 minutes", ready(list.Items), s.cfg.n)
		}
		sleep(ctx, time.Second)
	}
}

// actAsUsers acts every second until ctx ends.
func (s *soak) actAsUsers(ctx context.Context) {
	u := &s.users
	lastChurn := time.Now()
	for tick := time.NewTicker(time.Second); ctx.Err() == nil; <-tick.C {
		perSecond := func(share float64) int { // share of N per minute, as a whole count this second
			rate := share * float64(s.cfg.n) / 60
			n := int(math.Floor(rate))
			if s.chance(rate - float64(n)) {
				n++
			}
			return n
		}
		for range perSecond(rotateShare) {
			u.act(ctx, u.rotate)
		}
		for range perSecond(editShare) {
			u.act(ctx, u.edit)
		}
		for range perSecond(forceShare) {
			u.act(ctx, u.force)
		}
		for range perSecond(placeholderShare) {
			u.act(ctx, u.placeholderBack)
		}
		for range perSecond(replaceShare) {
			u.act(ctx, u.replace)
		}
		if time.Since(lastChurn) >= churnEvery {
			lastChurn = time.Now()
			u.act(ctx, u.deleteFigmaToken)
			if err := u.create(ctx); err != nil && ctx.Err() == nil {
				logf("user: creating a FigmaToken: %v", err)
			}
		}
	}
}

// act runs one user action on a random Secret whose FigmaToken exists.
func (u *users) act(ctx context.Context, action func(context.Context, string, *secretState) error) {
	u.mu.Lock()
	var names []string
	for name, st := range u.secrets {
		if st.figmaToken && !st.busy {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		u.mu.Unlock()
		return
	}
	name := pick(u.s, names)
	st := u.secrets[name]
	st.busy = true
	st.writes++
	u.mu.Unlock()
	err := action(ctx, name, st)
	u.mu.Lock()
	st.busy = false
	u.mu.Unlock()
	if err != nil && ctx.Err() == nil {
		logf("user: %v", err)
	}
}

// pick is a random element; the map order of names does not matter, the seed does: names
// are sorted first.
func pick(s *soak, names []string) string {
	sortStrings(names)
	return names[s.intn(len(names))]
}

func (u *users) create(ctx context.Context) error {
	u.mu.Lock()
	name := fmt.Sprintf("token-%05d", u.created)
	u.created++
	st := &secretState{refreshToken: refreshTokenFor(name, 0), edit: "0", busy: true}
	u.secrets[name] = st
	u.mu.Unlock()
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace,
			Labels: map[string]string{editLabel: st.edit}, Annotations: map[string]string{editAnnotation: st.edit}},
		Data: map[string][]byte{"refreshToken": []byte(st.refreshToken), editKey: []byte(st.edit)},
	}
	if err := u.s.client.Create(ctx, secret); err != nil {
		return err
	}
	ft := &figmav1alpha1.FigmaToken{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: figmav1alpha1.FigmaTokenSpec{SecretRef: figmav1alpha1.SecretRef{Name: figmav1alpha1.DNSSubdomain(name)}}}
	if err := u.s.client.Create(ctx, ft); err != nil {
		return err
	}
	u.mu.Lock()
	st.busy, st.figmaToken, st.since = false, true, time.Now()
	u.mu.Unlock()
	return nil
}

// updateSecret reads, changes and writes a Secret with its resourceVersion, as kubectl edit does.
func (u *users) updateSecret(ctx context.Context, name string, change func(*corev1.Secret)) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		secret := &corev1.Secret{}
		if err := u.s.client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, secret); err != nil {
			return err
		}
		change(secret)
		return u.s.client.Update(ctx, secret)
	})
}

func (u *users) rotate(ctx context.Context, name string, st *secretState) error {
	u.mu.Lock()
	generation := len(u.rotations) + 1
	u.mu.Unlock()
	token := refreshTokenFor(name, generation)
	err := u.updateSecret(ctx, name, func(secret *corev1.Secret) { secret.Data["refreshToken"] = []byte(token) })
	if err != nil {
		return fmt.Errorf("rotating the refresh token of %s: %w", name, err)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	st.refreshToken = token
	u.rotations = append(u.rotations, rotation{secret: name, token: token, at: time.Now()})
	return nil
}

// rotationTo is when users rotated a Secret's refresh token to token, if they did.
func (u *users) rotationTo(token string) (time.Time, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, rot := range u.rotations {
		if rot.token == token {
			return rot.at, true
		}
	}
	return time.Time{}, false
}

func (u *users) edit(ctx context.Context, name string, st *secretState) error {
	value := fmt.Sprint(time.Now().UnixNano())
	err := u.updateSecret(ctx, name, func(secret *corev1.Secret) {
		secret.Data[editKey] = []byte(value)
		secret.Labels[editLabel] = value
		secret.Annotations[editAnnotation] = value
	})
	if err != nil {
		return fmt.Errorf("editing Secret %s: %w", name, err)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	st.edit = value
	return nil
}

// force sets refresh-requested-at on a FigmaToken that has been there a while.
func (u *users) force(ctx context.Context, name string, st *secretState) error {
	u.mu.Lock()
	token, young := st.refreshToken, time.Since(st.since) < 30*time.Second
	u.mu.Unlock()
	if young {
		return nil
	}
	at := time.Now()
	stamp := at.UTC().Format(time.RFC3339Nano)
	patch := client.RawPatch(types.MergePatchType, fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, figmav1alpha1.AnnotationRefreshRequestedAt, stamp))
	err := u.s.client.Patch(ctx, &figmav1alpha1.FigmaToken{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}}, patch)
	if err != nil {
		return fmt.Errorf("forcing a refresh of %s: %w", name, err)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.forced = append(u.forced, &forcedRefresh{name: name, stamp: stamp, token: token, at: at, due: u.s.checker.nextRefreshOf(name)})
	return nil
}

// deleteFigmaToken deletes a FigmaToken; its Secret stays, as the contract says.
func (u *users) deleteFigmaToken(ctx context.Context, name string, st *secretState) error {
	u.mu.Lock()
	st.figmaToken = false
	u.mu.Unlock()
	err := u.s.client.Delete(ctx, &figmav1alpha1.FigmaToken{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// snapshot copies what users expect of each Secret, leaving out those being written.
func (u *users) snapshot() map[string]secretState {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make(map[string]secretState, len(u.secrets))
	for name, st := range u.secrets {
		if !st.busy {
			out[name] = *st
		}
	}
	return out
}
