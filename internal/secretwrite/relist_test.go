package secretwrite

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"

	figmav1alpha1 "github.com/tokenops/figma-token-operator/api/v1alpha1"
)

// A broken watch makes client-go's informer relist and report one update from the last
// version it saw to the current one. When the operator's write was not yet seen and another
// writer rotated the refresh token after it, that one update carries both: the own-write
// filter must let it through, or the rotation waits for the next scheduled refresh. (With
// refreshed-at alone it was dropped.)
func TestARelistMergingAnOwnWriteWithARotationIsNotDropped(t *testing.T) {
	w := newWriter(t)
	ft := owner("uid-1")
	key := types.NamespacedName{Namespace: "web", Name: "creds"}
	server := &fakeSecretServer{secret: secretAt("1", "2026-11-30T09:00:00Z", "refresh-1")}

	var (
		mu           sync.Mutex
		seen, passed []string // resourceVersions of the update events, of those the filter let through
	)
	informer := cache.NewSharedIndexInformer(server.listWatch(), &corev1.Secret{}, 0, cache.Indexers{})
	if _, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{UpdateFunc: func(old, updated any) {
		mu.Lock()
		defer mu.Unlock()
		rv := updated.(*corev1.Secret).ResourceVersion
		seen = append(seen, rv)
		if !w.IsOwnWrite(old.(*corev1.Secret), updated.(*corev1.Secret)) {
			passed = append(passed, rv)
		}
	}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go informer.RunWithContext(ctx)
	watcher := server.nextWatch(t)

	waitFor := func(rv string) {
		t.Helper()
		err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
			mu.Lock()
			defer mu.Unlock()
			return slices.Contains(seen, rv), nil
		})
		if err != nil {
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("no update event to resourceVersion %s; saw %v", rv, seen)
		}
	}

	// An own write seen by the watch is dropped.
	write := func(rv, refreshedAt string) {
		w.noteWrite(ft, key, refreshedAt)
		server.set(secretAt(rv, refreshedAt, "refresh-1"))
		w.wrote(write{owner: ft, key: key, payload: data}, rv)
	}
	write("2", "2026-11-30T10:00:00Z")
	watcher.Modify(server.get())
	waitFor("2")
	// The next own write is not seen before the watch breaks; another writer rotates the
	// refresh token after it; the API server ends the watch with 410 Gone.
	write("3", "2026-11-30T11:00:00Z")
	rotated := server.get()
	rotated.ResourceVersion, rotated.Data["refreshToken"] = "4", []byte("refresh-2")
	server.set(rotated)
	watcher.Error(&metav1.Status{Status: metav1.StatusFailure, Code: 410, Reason: metav1.StatusReasonExpired})
	waitFor("4")

	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(seen, []string{"2", "4"}) || !slices.Equal(passed, []string{"4"}) {
		t.Fatalf("update events %v, let through %v; want the own write (2) dropped and the merged one (4) through", seen, passed)
	}
}

func secretAt(rv, refreshedAt, refreshToken string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "creds", ResourceVersion: rv,
			Annotations: map[string]string{figmav1alpha1.AnnotationRefreshedAt: refreshedAt}},
		Data: map[string][]byte{"refreshToken": []byte(refreshToken)},
	}
}

// fakeSecretServer is an API server for one Secret: a list answers its current state, each
// watch is a FakeWatcher the test drives.
type fakeSecretServer struct {
	mu       sync.Mutex
	secret   *corev1.Secret
	watchers chan *watch.FakeWatcher
}

func (s *fakeSecretServer) set(secret *corev1.Secret) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secret = secret
}

func (s *fakeSecretServer) get() *corev1.Secret {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.secret.DeepCopy()
}

func (s *fakeSecretServer) listWatch() *cache.ListWatch {
	s.watchers = make(chan *watch.FakeWatcher, 8)
	return &cache.ListWatch{
		ListWithContextFunc: func(context.Context, metav1.ListOptions) (runtime.Object, error) {
			secret := s.get()
			return &corev1.SecretList{ListMeta: metav1.ListMeta{ResourceVersion: secret.ResourceVersion}, Items: []corev1.Secret{*secret}}, nil
		},
		WatchFuncWithContext: func(_ context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			if opts.SendInitialEvents != nil && *opts.SendInitialEvents {
				return nil, errors.New("no streaming lists here") // the reflector lists instead
			}
			fw := watch.NewFakeWithChanSize(8, false)
			s.watchers <- fw
			return fw, nil
		},
	}
}

func (s *fakeSecretServer) nextWatch(t *testing.T) *watch.FakeWatcher {
	t.Helper()
	select {
	case fw := <-s.watchers:
		return fw
	case <-time.After(30 * time.Second):
		t.Fatal("the informer never watched")
		return nil
	}
}
