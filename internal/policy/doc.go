// Package policy is the refresh policy of a FigmaToken, in one place and without I/O: from
// what a reconcile observed, Decide says what it does (call upstream or wait, sync or prune
// the target, restart workloads, when to wake up) and what it reports (Ready, Stalled and
// Reconciling, with reason and message). Reasons says what each reason means. Time is
// passed in, so every rule is tested without a control plane or a real clock.
package policy
