package main

import (
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// How a container reaches the access token in the Secret.
const (
	// wayVolume: a Secret (or projected) volume mounted whole; the kubelet updates its files
	// after each refresh, so the container follows refreshes.
	wayVolume = "volume"
	// waySubPath: a file of such a volume mounted with subPath (or subPathExpr): fixed when
	// the container starts, never updated (kubernetes/kubernetes#50345).
	waySubPath = "subPath"
	// wayEnv and wayEnvFrom: environment variables, set when the container starts.
	wayEnv     = "env"
	wayEnvFrom = "envFrom"
)

// What a consumer holds.
const (
	holdsFollows = "follows" // a volume: whatever the Secret holds, a minute or so late
	holdsCurrent = "current"
	holdsOlder   = "older"
	// holdsCurrentOrOlder: started within propagationDelay after the current token was
	// written, when the kubelet may still have served the older one.
	holdsCurrentOrOlder = "current-or-older"
	holdsNotRunning     = "not-running" // reads the Secret when it starts
	holdsUnknown        = "unknown"     // the Secret records no token of this FigmaToken
)

// propagationDelay is how long after a refresh a starting container may still get the
// older token: the kubelet's Secret cache and volume sync.
const propagationDelay = time.Minute

// consumer is one way one container reaches the access token.
type consumer struct {
	Pod       string `json:"pod"`
	Container string `json:"container"`
	Way       string `json:"way"`
	// Via names the reference: the volume, the environment variable, or the envFrom
	// prefix; "projected volume NAME" through a projected volume.
	Via string `json:"via"`
	// StartedAt is when the running container started, as the kubelet reports it.
	StartedAt *time.Time `json:"startedAt,omitempty"`
	Holds     string     `json:"holds"`
	// ExpiresBy is when the token it holds expires at the latest (see judgeConsumer).
	ExpiresBy *time.Time `json:"expiresBy,omitempty"`
	// Stale: it holds a token that has expired or expires within --within, and will not
	// see a new one until it restarts.
	Stale bool `json:"stale"`
}

// findConsumers lists every way the containers of pods (init containers too: sidecars)
// reach key of Secret secret. References that reach only other keys (the refresh token)
// are not consumers of the access token.
func findConsumers(pods []corev1.Pod, secret, key string) []consumer {
	var found []consumer
	for i := range pods {
		pod := &pods[i]
		paths := tokenPaths(pod.Spec.Volumes, secret, key)
		containers := append(append([]corev1.Container(nil), pod.Spec.InitContainers...), pod.Spec.Containers...)
		for _, c := range containers {
			add := func(way, via string) {
				found = append(found, consumer{Pod: pod.Name, Container: c.Name, Way: way, Via: via, StartedAt: startedAt(pod, c.Name)})
			}
			for _, m := range c.VolumeMounts {
				p, ok := paths[m.Name]
				if !ok {
					continue
				}
				switch {
				case m.SubPath == "" && m.SubPathExpr == "":
					add(wayVolume, p.via)
				case m.SubPathExpr != "" || p.reaches(m.SubPath):
					add(waySubPath, p.via+" subPath "+m.SubPath+m.SubPathExpr)
				}
			}
			for _, e := range c.Env {
				if ref := e.ValueFrom; ref != nil && ref.SecretKeyRef != nil && ref.SecretKeyRef.Name == secret && ref.SecretKeyRef.Key == key {
					add(wayEnv, e.Name)
				}
			}
			for _, e := range c.EnvFrom {
				if e.SecretRef != nil && e.SecretRef.Name == secret {
					add(wayEnvFrom, e.Prefix+key)
				}
			}
		}
	}
	return found
}

// volumePaths are the files of one volume that hold the token.
type volumePaths struct {
	via   string
	files []string
}

// reaches reports whether a subPath is one of the files, or a folder above one.
func (p volumePaths) reaches(subPath string) bool {
	subPath = strings.Trim(subPath, "/")
	for _, f := range p.files {
		if f == subPath || strings.HasPrefix(f, subPath+"/") {
			return true
		}
	}
	return false
}

// tokenPaths maps each volume that projects key of secret (a Secret volume, or a projected
// volume with that Secret among its sources) to the files that hold it.
func tokenPaths(volumes []corev1.Volume, secret, key string) map[string]volumePaths {
	found := map[string]volumePaths{}
	for _, v := range volumes {
		p := volumePaths{via: v.Name}
		switch {
		case v.Secret != nil && v.Secret.SecretName == secret:
			p.files = filesOf(v.Secret.Items, key)
		case v.Projected != nil:
			p.via = "projected volume " + v.Name
			for _, src := range v.Projected.Sources {
				if src.Secret != nil && src.Secret.Name == secret {
					p.files = append(p.files, filesOf(src.Secret.Items, key)...)
				}
			}
		}
		if len(p.files) > 0 {
			found[v.Name] = p
		}
	}
	return found
}

// filesOf is where key lands in a volume: its own name without items, else each item's path.
func filesOf(items []corev1.KeyToPath, key string) []string {
	if len(items) == 0 {
		return []string{key}
	}
	var files []string
	for _, it := range items {
		if it.Key == key {
			files = append(files, strings.Trim(it.Path, "/"))
		}
	}
	return files
}

// startedAt is when the named container last started, if it runs.
func startedAt(pod *corev1.Pod, container string) *time.Time {
	for _, statuses := range [][]corev1.ContainerStatus{pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses} {
		for _, s := range statuses {
			if s.Name == container && s.State.Running != nil && !s.State.Running.StartedAt.IsZero() {
				t := s.State.Running.StartedAt.UTC()
				return &t
			}
		}
	}
	return nil
}

// written is what the Secret's annotations say of the token it holds now: when it was
// refreshed (the request sent) and when it expires; zero when it records none.
type written struct {
	refreshedAt, expiresAt time.Time
}

// judgeConsumer says what a consumer holds and by when that expires at the latest.
//
// A volume follows refreshes: it holds the current token, and is never stale (whether the
// current token lapses is the FigmaToken's own Ready condition).
//
// A subPath or env consumer holds the token the Secret held when its container started.
// With R the current token's refreshed-at and L its lifetime (expires-at - R):
//   - started at R + propagationDelay or later: the current token, expiring at R + L;
//   - started before R: an older one. Which one is not recorded, but it was obtained no
//     later than the start, and Figma's tokens all have the same lifetime, so it expires
//     at the latest at start + L (already past when the start is more than L ago);
//   - started in between: the current token or the one before: at the latest R + L.
//
// It is stale when that time is not after now + within.
func judgeConsumer(c consumer, w written, now time.Time, within time.Duration) consumer {
	switch {
	case w.refreshedAt.IsZero() || !w.expiresAt.After(w.refreshedAt):
		c.Holds = holdsUnknown
		if c.Way != wayVolume && c.StartedAt == nil {
			c.Holds = holdsNotRunning
		}
		return c
	case c.Way == wayVolume:
		c.Holds, c.ExpiresBy = holdsFollows, &w.expiresAt
		return c
	case c.StartedAt == nil:
		c.Holds = holdsNotRunning
		return c
	}
	lifetime := w.expiresAt.Sub(w.refreshedAt)
	expiresBy := w.expiresAt
	switch start := *c.StartedAt; {
	case !start.Before(w.refreshedAt.Add(propagationDelay)):
		c.Holds = holdsCurrent
	case start.Before(w.refreshedAt):
		c.Holds, expiresBy = holdsOlder, start.Add(lifetime)
	default:
		c.Holds = holdsCurrentOrOlder
	}
	c.ExpiresBy = &expiresBy
	c.Stale = !expiresBy.After(now.Add(within))
	return c
}
