package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// previousCommit is the version the upgrade fault rolls back to and forward from: the last
// commit before the operator recorded access-token-hash (issue 20), so its Secrets have the
// previous format and the current version must adopt them without a call.
const previousCommit = "8edef4d99bccb99cf43dd0f1855cc9a34688e14a"

// previousLeads is how long the previous version leads during an upgrade: a quarter of the
// soak's token lifetime, so that it refreshes about a quarter of the tokens.
const previousLeads = tokenLifetime / 4

// buildPrevious builds the manager of previousCommit from the repository's own history,
// once, into bin/.
func buildPrevious(ctx context.Context, root string) (string, error) {
	out := filepath.Join(root, "bin", "soak-manager-"+previousCommit[:12])
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	logf("building the previous version's manager (%s) for the upgrade fault", previousCommit[:12])
	tree, err := os.MkdirTemp("", "soak-previous-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tree)
	defer exec.Command("git", "-C", root, "worktree", "remove", "--force", tree).Run() //nolint:errcheck // best effort
	for _, cmd := range []*exec.Cmd{
		exec.CommandContext(ctx, "git", "-C", root, "worktree", "add", "--detach", "--force", tree, previousCommit),
		exec.CommandContext(ctx, "go", "build", "-o", out+".tmp", "."),
	} {
		if cmd.Args[0] == "go" {
			cmd.Dir = tree
		}
		if output, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("%v: %w\n%s", cmd.Args, err, output)
		}
	}
	return out, os.Rename(out+".tmp", out)
}

// upgrade rolls the replicas, standby first, to the previous version's manager and then back
// to the current one, one at a time, as a Deployment's rolling update does, while refreshes
// come due. No upstream call may come of it: a FigmaToken that was not due, and that users
// left alone meanwhile, must not be refreshed (an upgrade_call otherwise).
func (s *soak) upgrade(ctx context.Context) {
	logf("fault: rolling the replicas to the previous version (%s), then back to this one", previousCommit[:12])
	start := time.Now()
	closeWindow := s.openWindow("upgrade and failovers")
	type before struct {
		calls, writes int
		token         string
		due           time.Time
	}
	u := &s.users
	u.mu.Lock()
	tokens := map[string]before{}
	for name, st := range u.secrets {
		if st.figmaToken {
			tokens[name] = before{calls: s.fake.Fake.Calls(st.refreshToken), writes: st.writes, token: st.refreshToken}
		}
	}
	u.mu.Unlock()
	for name, b := range tokens {
		b.due = s.checker.nextRefreshOf(name)
		tokens[name] = b
	}

	for i, binary := range []string{s.previousManager, s.bins.Manager} {
		for _, r := range s.standbyFirst() {
			r.replaceWith(ctx, binary)
		}
		if i == 0 {
			// The previous version leads for a while: refreshes come due, and the Secrets it
			// writes have its format, which this version must adopt without a call.
			logf("fault: the previous version leads for %s", previousLeads)
			sleep(ctx, previousLeads)
		}
	}
	end := s.ledAgain(ctx, time.Now())
	closeWindow(end)
	s.mu.Lock()
	s.upgrades++
	s.faults["upgrade"]++
	s.mu.Unlock()
	s.checker.recoverFrom("upgrade", end)
	logf("fault: the upgrade took %s", end.Sub(start).Round(time.Second))

	// A refresh the upgrade caused comes soon after it, if at all.
	sleep(ctx, 10*time.Second)
	now := time.Now()
	u.mu.Lock()
	defer u.mu.Unlock()
	for name, b := range tokens {
		st := u.secrets[name]
		if st == nil || !st.figmaToken || st.writes != b.writes || st.refreshToken != b.token || b.due.IsZero() || !now.Before(b.due) {
			continue // users acted, or a refresh was due anyway
		}
		if calls := s.fake.Fake.Calls(b.token); calls > b.calls {
			s.checker.violate("upgrade_call", fmt.Sprintf("FigmaToken %s, not due until %s, was refreshed during the upgrade (%d calls)",
				name, b.due.Format("15:04:05"), calls-b.calls))
		}
	}
}

// standbyFirst is the replicas, those that do not lead first.
func (s *soak) standbyFirst() []*replica {
	var standbys, leaders []*replica
	for _, r := range s.replicas {
		if r.leads() {
			leaders = append(leaders, r)
		} else {
			standbys = append(standbys, r)
		}
	}
	return append(standbys, leaders...)
}

// replaceWith stops the replica's process gracefully (it hands its lease back) and has it
// started again with binary; as a rolling update waits for the new Pod to be ready, it waits
// until the replacement runs (it competes for the lease) and a replica leads.
func (r *replica) replaceWith(ctx context.Context, binary string) {
	r.mu.Lock()
	r.binary = binary
	p := r.process
	r.mu.Unlock()
	p.Stop() // supervise starts the replacement
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline) && ctx.Err() == nil; sleep(ctx, 250*time.Millisecond) {
		r.mu.Lock()
		next := r.process
		r.mu.Unlock()
		if next != p && strings.Contains(strings.ToLower(next.Log()), "attempting to acquire leader lease") {
			break
		}
	}
	r.s.ledAgain(ctx, time.Now())
}
