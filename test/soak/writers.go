package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// Other writers, per minute, as shares of the Secrets: what GitOps tools, generators and
// people do to a Secret the operator writes (CONTRACT.md, "Other writers"). Each Secret
// meets at most two of them in ten minutes, below the three that make a fight, so that
// every one must be undone by a free restore.
const (
	placeholderShare = 0.02 // a GitOps re-apply puts the placeholder (accessToken: "") back
	replaceShare     = 0.01 // kubectl replace from Git: the Secret without the operator's keys and annotations
	// otherWriterField is the field manager the other writers write as.
	otherWriterField = "soak-gitops"
	placeholder      = "" // what Git holds, as CONTRACT.md's example
	// restoreWithin is the goal for the operator to put its token back, outside fault windows.
	restoreWithin = 30 * time.Second
	fightWindow   = 10 * time.Minute
)

// overwrite is one other writer's change, until the checker sees it undone.
type overwrite struct {
	secret, kind string
	at           time.Time
	// calls is how many upstream calls the Secret's refresh token had had; due, its
	// FigmaToken's next refresh then; writes, the users' writes to it: a restore costs no
	// call unless a refresh came due or a user acted meanwhile.
	refreshToken string
	calls        int
	due          time.Time
	writes       int
	// undone is when the checker saw the operator's token back; late, that it was reported
	// as slow.
	undone time.Time
	late   bool
}

func (o *overwrite) restored() bool { return !o.undone.IsZero() }

// placeholderBack re-applies the Secret as Git holds it: the empty placeholder in accessToken.
func (u *users) placeholderBack(ctx context.Context, name string, st *secretState) error {
	return u.overwrite(ctx, name, st, "placeholder", func(secret *corev1.Secret) *corev1.Secret {
		secret.Data["accessToken"] = []byte(placeholder)
		return secret
	})
}

// replace puts the Secret back as Git holds it, whole (kubectl replace): the users' own keys,
// labels and annotations and the refresh token, nothing of the operator's.
func (u *users) replace(ctx context.Context, name string, st *secretState) error {
	u.mu.Lock()
	refreshToken, edit := st.refreshToken, st.edit
	u.mu.Unlock()
	return u.overwrite(ctx, name, st, "replace", func(current *corev1.Secret) *corev1.Secret {
		return &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, ResourceVersion: current.ResourceVersion,
				Labels: map[string]string{editLabel: edit}, Annotations: map[string]string{editAnnotation: edit}},
			Data: map[string][]byte{"refreshToken": []byte(refreshToken), editKey: []byte(edit)},
		}
	})
}

// overwrite writes change(the Secret) as the other writer, once the operator has written the
// Secret and unless the Secret met two other writers in the last ten minutes, and has the
// checker wait for the operator to undo it.
func (u *users) overwrite(ctx context.Context, name string, st *secretState, kind string, change func(*corev1.Secret) *corev1.Secret) error {
	now := time.Now()
	u.mu.Lock()
	recent := 0
	for _, o := range u.overwrites {
		if o.secret == name && now.Sub(o.at) < fightWindow {
			recent++
		}
	}
	refreshToken, writes := st.refreshToken, st.writes
	u.mu.Unlock()
	if recent >= 2 {
		return nil
	}
	secret := &corev1.Secret{}
	if err := u.s.client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, secret); err != nil {
		return err
	}
	if len(secret.Data["accessToken"]) == 0 || secret.Annotations[figmav1alpha1.AnnotationOwner] != name {
		return nil // nothing of the operator's to overwrite yet
	}
	o := &overwrite{secret: name, kind: kind, refreshToken: refreshToken, calls: u.s.fake.Fake.Calls(refreshToken),
		due: u.s.checker.nextRefreshOf(name), writes: writes}
	if err := u.s.client.Update(ctx, change(secret), client.FieldOwner(otherWriterField)); err != nil {
		return fmt.Errorf("%s of Secret %s: %w", kind, name, err)
	}
	o.at = time.Now()
	u.mu.Lock()
	defer u.mu.Unlock()
	u.overwrites = append(u.overwrites, o)
	u.s.countFault("other_writer_" + kind)
	return nil
}

// checkOverwrites sees which other writers' changes the operator has undone: the Secret holds
// a token the fake issued for its refresh token, and the operator's owner annotation. A
// restore that took an upstream call, with no refresh due and no user acting meanwhile, or
// that took longer than restoreWithin outside fault windows, is a violation.
// The Secrets were listed at listed: an overwrite made since waits for the next check.
func (c *checker) checkOverwrites(secrets []corev1.Secret, listed, now time.Time) {
	byName := map[string]*corev1.Secret{}
	for i := range secrets {
		byName[secrets[i].Name] = &secrets[i]
	}
	u := &c.s.users
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, o := range u.overwrites {
		if o.restored() || o.at.After(listed) {
			continue
		}
		st, secret := u.secrets[o.secret], byName[o.secret]
		if st == nil || secret == nil || !st.figmaToken {
			o.undone = now // the FigmaToken went: nothing to restore
			continue
		}
		rt := st.refreshToken
		if token := string(secret.Data["accessToken"]); secret.Annotations[figmav1alpha1.AnnotationOwner] == o.secret && slices.Contains(c.s.fake.Fake.IssuedFor(rt), token) {
			o.undone = now
			u.restores = append(u.restores, now.Sub(o.at).Seconds())
			calls := c.s.fake.Fake.Calls(rt)
			if rt == o.refreshToken && calls > o.calls && now.Before(o.due) && st.writes == o.writes {
				detail := fmt.Sprintf("restoring Secret %s after a %s took %d upstream calls, with no refresh due until %s",
					o.secret, o.kind, calls-o.calls, o.due.Format("15:04:05"))
				// A new leader has not the token its predecessor kept: a failover within a
				// token's lifetime may cost a call (CONTRACT.md: one per lifetime per start).
				if c.s.failedOverSince(now.Add(-tokenLifetime)) {
					c.excuse("overwrite_cost_a_call", detail, "a failover within a token's lifetime before: the new leader kept no token")
				} else {
					c.violate("overwrite_cost_a_call", detail)
				}
			}
			continue
		}
		if waited := now.Sub(o.at); waited > restoreWithin && !o.late {
			o.late = true
			detail := fmt.Sprintf("the %s of Secret %s at %s not undone after %s", o.kind, o.secret, o.at.Format("15:04:05"), restoreWithin)
			if blocked, causes := c.s.blocked(o.at, now, o.secret); blocked > 0 {
				c.excuse("slow_restore", detail, causes)
			} else {
				c.violate("slow_restore", detail)
			}
		}
	}
}
