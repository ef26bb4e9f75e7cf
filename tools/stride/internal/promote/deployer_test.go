package promote_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/strideci/monorepo/tools/stride/internal/ledger"
	"github.com/strideci/monorepo/tools/stride/internal/promote"
)

// scriptedDeployer fails the deploy of the builds in bad, says the
// environments in down are not running, and records every deploy.
type scriptedDeployer struct {
	bad, down map[string]bool
	deploys   []string
}

func (d *scriptedDeployer) Deploy(ctx context.Context, dep promote.Deployment) error {
	d.deploys = append(d.deploys, dep.Env+" "+dep.Build[:4])
	if d.down[dep.Env] {
		return fmt.Errorf("%s is not up: %w", dep.Env, promote.ErrNotRunning)
	}
	if d.bad[dep.Build] {
		return &promote.DeployFailed{Reason: "hello/1 did not become ready: /readyz answered 503"}
	}
	return nil
}

// TestDeployerOutcomes: a deploy that fails rolls the environment back by
// itself (a rollback event, manual false, with the reason) and is not
// retried; an environment that is not running records the deploy step as
// done with why.
func TestDeployerOutcomes(t *testing.T) {
	f := newFixture(t, "environment(name = \"dev\")\nenvironment(name = \"uat\", after = \"dev\")\n")
	d := &scriptedDeployer{bad: map[string]bool{}, down: map[string]bool{"dev": true}}
	o := f.options()
	o.Deployer = d
	ctx := context.Background()
	b1 := f.build("Alice <alice@example.com>", "one", 0)
	if _, err := promote.Auto(ctx, o, true); err != nil {
		t.Fatal(err)
	}
	if _, err := promote.Auto(ctx, o, true); err != nil {
		t.Fatal(err)
	}
	b2 := f.build("Alice <alice@example.com>", "two", 0)
	d.bad[b2] = true
	if _, err := promote.Auto(ctx, o, true); err != nil { // dev (not running)
		t.Fatal(err)
	}
	res, err := promote.Auto(ctx, o, true) // uat: fails, rolled back
	if err != nil {
		t.Fatal(err)
	}
	log, err := o.Ledger.Read()
	if err != nil {
		t.Fatal(err)
	}
	st := log.State().Env("uat")
	if st.Build != b1 || st.Change.Kind != ledger.KindRollback || st.Change.Manual || !strings.Contains(st.Change.Reason, "did not become ready") ||
		!strings.HasPrefix(st.Change.Actor, "watch (") || st.RolledBack[b2] == nil || st.Done[ledger.StepDeploy] == nil {
		t.Fatalf("uat after a failed deploy: %+v\nchange %+v\nrecorded %v", st, st.Change, res.Recorded)
	}
	dev := log.State().Env("dev")
	if det := dev.Done[ledger.StepDeploy]; det == nil || !strings.Contains(det.Detail, "dev is not up") {
		t.Errorf("dev's deploy step: %+v", det)
	}
	n := len(d.deploys)
	if _, err := promote.Auto(ctx, o, true); err != nil {
		t.Fatal(err)
	}
	if len(d.deploys) != n {
		t.Errorf("a run after the rollback deployed again: %v", d.deploys[n:])
	}
	want := []string{"dev " + b1[:4], "uat " + b1[:4], "dev " + b2[:4], "uat " + b2[:4], "uat " + b1[:4]}
	if fmt.Sprint(d.deploys) != fmt.Sprint(want) {
		t.Errorf("deploys %v, want %v", d.deploys, want)
	}
}
