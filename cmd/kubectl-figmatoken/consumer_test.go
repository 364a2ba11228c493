package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// pod is a running pod with one container "app", started at started (none: not running).
func pod(name string, started *time.Time, volumes []corev1.Volume, c corev1.Container) corev1.Pod {
	c.Name = "app"
	p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{Volumes: volumes, Containers: []corev1.Container{c}}}
	if started != nil {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(*started)}}}}
	}
	return p
}

func secretVolume(name, secret string, items ...corev1.KeyToPath) []corev1.Volume {
	return []corev1.Volume{{Name: name, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: secret, Items: items}}}}
}

func projectedVolume(name string, secrets ...string) []corev1.Volume {
	v := corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{}}}
	for _, s := range secrets {
		v.Projected.Sources = append(v.Projected.Sources, corev1.VolumeProjection{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: s}}})
	}
	return []corev1.Volume{v}
}

func mount(volume, subPath string) corev1.Container {
	return corev1.Container{VolumeMounts: []corev1.VolumeMount{{Name: volume, MountPath: "/figma", SubPath: subPath}}}
}

func envKey(name, secret, key string) corev1.Container {
	return corev1.Container{Env: []corev1.EnvVar{{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: key}}}}}
}

func envFrom(secret, prefix string) corev1.Container {
	return corev1.Container{EnvFrom: []corev1.EnvFromSource{{Prefix: prefix, SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: secret}}}}}
}

func TestFindConsumersByEveryWay(t *testing.T) {
	started := now.Add(-time.Hour)
	tests := []struct {
		name string
		pod  corev1.Pod
		want string // "way via", or "" for not a consumer
	}{
		{"volume", pod("p", &started, secretVolume("figma", "creds"), mount("figma", "")), "volume figma"},
		{"projected volume", pod("p", &started, projectedVolume("all", "other", "creds"), mount("all", "")), "volume projected volume all"},
		{"subPath of the token's file", pod("p", &started, secretVolume("figma", "creds"), mount("figma", "accessToken")), "subPath figma subPath accessToken"},
		{"subPath through projected", pod("p", &started, projectedVolume("all", "creds"), mount("all", "accessToken")), "subPath projected volume all subPath accessToken"},
		{"subPath of an item's path", pod("p", &started, secretVolume("figma", "creds", corev1.KeyToPath{Key: "accessToken", Path: "figma/token"}), mount("figma", "figma/token")), "subPath figma subPath figma/token"},
		{"subPath of the item's folder", pod("p", &started, secretVolume("figma", "creds", corev1.KeyToPath{Key: "accessToken", Path: "figma/token"}), mount("figma", "figma")), "subPath figma subPath figma"},
		{"subPath of another key", pod("p", &started, secretVolume("figma", "creds"), mount("figma", "refreshToken")), ""},
		{"items without the token", pod("p", &started, secretVolume("figma", "creds", corev1.KeyToPath{Key: "refreshToken", Path: "rt"}), mount("figma", "")), ""},
		{"subPathExpr: cannot tell, counted", pod("p", &started, secretVolume("figma", "creds"), corev1.Container{VolumeMounts: []corev1.VolumeMount{{Name: "figma", MountPath: "/f", SubPathExpr: "$(KEY)"}}}), "subPath figma subPath $(KEY)"},
		{"env", pod("p", &started, nil, envKey("FIGMA_TOKEN", "creds", "accessToken")), "env FIGMA_TOKEN"},
		{"env of the refresh token", pod("p", &started, nil, envKey("RT", "creds", "refreshToken")), ""},
		{"envFrom", pod("p", &started, nil, envFrom("creds", "FIGMA_")), "envFrom FIGMA_accessToken"},
		{"another Secret", pod("p", &started, secretVolume("figma", "other"), envFrom("other", "")), ""},
		{"a volume no container mounts", pod("p", &started, secretVolume("figma", "creds"), corev1.Container{}), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			found := findConsumers([]corev1.Pod{tt.pod}, "creds", "accessToken")
			var got []string
			for _, c := range found {
				got = append(got, c.Way+" "+c.Via)
				if c.StartedAt == nil || !c.StartedAt.Equal(started) {
					t.Errorf("startedAt %v, want %v", c.StartedAt, started)
				}
			}
			if strings.Join(got, "|") != tt.want {
				t.Fatalf("consumers %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFindConsumersReadsSidecarsAndStartTimes(t *testing.T) {
	started := now.Add(-time.Hour)
	p := pod("p", nil, nil, envKey("T", "creds", "accessToken"))
	p.Spec.InitContainers = []corev1.Container{{Name: "sidecar", EnvFrom: envFrom("creds", "").EnvFrom}}
	p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "sidecar", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(started)}}}}
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}}}
	found := findConsumers([]corev1.Pod{p}, "creds", "accessToken")
	if len(found) != 2 || found[0].Container != "sidecar" || found[0].StartedAt == nil || found[1].Container != "app" || found[1].StartedAt != nil {
		t.Fatalf("consumers %+v: want the running sidecar with its start, then the waiting app without one", found)
	}
}

func TestJudgeConsumerHoldsAndExpiry(t *testing.T) {
	const lifetime = 90 * 24 * time.Hour
	refreshed := now.Add(-30 * 24 * time.Hour)
	w := written{refreshedAt: refreshed, expiresAt: refreshed.Add(lifetime)}
	ptr := func(t time.Time) *time.Time { return &t }
	tests := []struct {
		name      string
		way       string
		started   *time.Time
		w         written
		within    time.Duration
		holds     string
		expiresBy *time.Time
		stale     bool
	}{
		{"volume follows refreshes", wayVolume, ptr(refreshed.Add(-200 * 24 * time.Hour)), w, 24 * time.Hour, holdsFollows, ptr(w.expiresAt), false},
		{"env started after the refresh: current", wayEnv, ptr(refreshed.Add(time.Hour)), w, 24 * time.Hour, holdsCurrent, ptr(w.expiresAt), false},
		{"env started a minute after: current", wayEnv, ptr(refreshed.Add(propagationDelay)), w, 24 * time.Hour, holdsCurrent, ptr(w.expiresAt), false},
		{"env started within the kubelet's delay", wayEnvFrom, ptr(refreshed.Add(10 * time.Second)), w, 24 * time.Hour, holdsCurrentOrOlder, ptr(w.expiresAt), false},
		// Started 40 days before the refresh (70 days ago): its token expires by start + 90d,
		// in 20 days.
		{"subPath started before the refresh: older", waySubPath, ptr(refreshed.Add(-40 * 24 * time.Hour)), w, 24 * time.Hour, holdsOlder, ptr(refreshed.Add(-40*24*time.Hour + lifetime)), false},
		{"older, expiring within --within", waySubPath, ptr(refreshed.Add(-40 * 24 * time.Hour)), w, 21 * 24 * time.Hour, holdsOlder, ptr(refreshed.Add(-40*24*time.Hour + lifetime)), true},
		{"older and expired", wayEnv, ptr(now.Add(-lifetime - time.Hour)), w, 0, holdsOlder, ptr(now.Add(-time.Hour)), true},
		{"current, expiring within --within (short tokens)", wayEnv, ptr(now.Add(-10 * time.Minute)),
			written{refreshedAt: now.Add(-20 * time.Minute), expiresAt: now.Add(40 * time.Minute)}, 24 * time.Hour, holdsCurrent, ptr(now.Add(40 * time.Minute)), true},
		{"not running: reads the Secret at its start", wayEnv, nil, w, 24 * time.Hour, holdsNotRunning, nil, false},
		{"no token recorded yet", wayEnv, ptr(now), written{}, 24 * time.Hour, holdsUnknown, nil, false},
		{"no token recorded, volume", wayVolume, ptr(now), written{}, 24 * time.Hour, holdsUnknown, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := judgeConsumer(consumer{Way: tt.way, StartedAt: tt.started}, tt.w, now, tt.within)
			if got.Holds != tt.holds || got.Stale != tt.stale || fmt.Sprint(got.ExpiresBy) != fmt.Sprint(tt.expiresBy) {
				t.Fatalf("judgeConsumer = holds %s, expires by %v, stale %v; want %s, %v, %v", got.Holds, got.ExpiresBy, got.Stale, tt.holds, tt.expiresBy, tt.stale)
			}
		})
	}
}

func TestConsumersPrintAsTableAndJSON(t *testing.T) {
	refreshed, expires := now.Add(-10*time.Minute), now.Add(50*time.Minute)
	started, expiresBy := now.Add(-2*time.Hour), now.Add(-time.Hour)
	r := &consumersReport{FigmaToken: "design-system", Namespace: "web", Secret: "creds", Key: "accessToken", RefreshedAt: &refreshed, ExpiresAt: &expires, Within: "24h", Stale: 1,
		Consumers: []consumer{
			{Pod: "api", Container: "app", Way: wayEnv, Via: "FIGMA_TOKEN", StartedAt: &started, Holds: holdsOlder, ExpiresBy: &expiresBy, Stale: true},
			{Pod: "web", Container: "app", Way: wayVolume, Via: "figma", StartedAt: &started, Holds: holdsFollows, ExpiresBy: &expires},
		}}
	var table bytes.Buffer
	if err := printConsumers(&table, r, now); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(table.String()), "\n")
	want := [][]string{
		{"Secret", "web/creds,", "key", `"accessToken":`, "the", "current", "token", "was", "refreshed", "2026-11-25T09:50:00Z", "(10m", "ago)", "and", "expires", "2026-11-25T10:50:00Z", "(in", "50m)"},
		{"POD", "CONTAINER", "WAY", "VIA", "STARTED", "HOLDS", "EXPIRES", "STALE"},
		{"api", "app", "env", "FIGMA_TOKEN", "120m", "ago", "older", "expired", "yes"},
		{"web", "app", "volume", "figma", "120m", "ago", "follows", "50m", "no"},
	}
	if len(lines) != 5 {
		t.Fatalf("table:\n%s", table.String())
	}
	for i, w := range want {
		if got := strings.Fields(lines[i]); strings.Join(got, " ") != strings.Join(w, " ") {
			t.Errorf("line %d = %q, want %q", i, got, w)
		}
	}
	if !strings.HasPrefix(lines[4], "1 of 2 consumers hold a token that has expired or expires within 24h") {
		t.Errorf("summary %q", lines[4])
	}

	var out bytes.Buffer
	if err := printConsumersJSON(&out, r); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(out.Bytes(), &back); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	consumers := back["consumers"].([]any)
	first := consumers[0].(map[string]any)
	for k, v := range map[string]any{"pod": "api", "container": "app", "way": "env", "via": "FIGMA_TOKEN", "holds": "older", "stale": true,
		"startedAt": "2026-11-25T08:00:00Z", "expiresBy": "2026-11-25T09:00:00Z"} {
		if first[k] != v {
			t.Errorf("consumers[0].%s = %v, want %v", k, first[k], v)
		}
	}
	if back["stale"] != float64(1) || back["within"] != "24h" || back["secret"] != "creds" || back["expiresAt"] != "2026-11-25T10:50:00Z" {
		t.Errorf("report %v", back)
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{24 * time.Hour: "24h", 90 * time.Minute: "1h30m", 10 * time.Minute: "10m", 90 * time.Second: "1m30s", 0: "0s"} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%s) = %q, want %q", d, got, want)
		}
	}
}
