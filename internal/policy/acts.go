package policy

// Act is one step a decision may ask of a reconcile; a set of them is an Act too.
type Act uint8

// The acts, in the order a reconcile takes them.
const (
	ActReleaseSource Act = 1 << iota
	ActAdopt
	ActRefresh
	ActSyncSource
	ActSyncTarget
	ActPruneTargets
	ActRestartWorkloads
)

// writesToken are the acts that write the Secret that receives the token: a reconcile takes
// one of them, as the first decision asks.
const writesToken = ActRefresh | ActSyncSource | ActSyncTarget

// NextAct is the first act the decision asks for that the reconcile has not taken (done): each
// is taken once, and of a refresh and the syncs only the first asked. 0 when none is left.
func (d Decision) NextAct(done Act) Act {
	asked := []struct {
		act Act
		yes bool
	}{
		{ActReleaseSource, d.ReleaseSource},
		{ActAdopt, d.Adopt},
		{ActRefresh, d.Refresh},
		{ActSyncSource, d.SyncSource},
		{ActSyncTarget, d.SyncTarget},
		{ActPruneTargets, d.PruneTargets},
		{ActRestartWorkloads, d.RestartWorkloads},
	}
	for _, a := range asked {
		if !a.yes || done&a.act != 0 || (a.act&writesToken != 0 && done&writesToken != 0) {
			continue
		}
		return a.act
	}
	return 0
}
