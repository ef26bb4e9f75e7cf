package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/apt"
	"github.com/strideci/monorepo/tools/stride/internal/apt/apttest"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/gitrepo/gittest"
	"github.com/strideci/monorepo/tools/stride/internal/ledger"
	"github.com/strideci/monorepo/tools/stride/internal/publish"
	"github.com/strideci/monorepo/tools/stride/internal/publish/publishtest"
	"github.com/strideci/monorepo/tools/stride/internal/report"
	"github.com/strideci/monorepo/tools/stride/internal/store"
)

// e2eConfig is the environments with the soaks shortened to a
// second and no change window.
const e2eConfig = `environment(name = "dev")
environment(name = "uat", after = "dev", criteria = [tests_green(), soak(seconds = 1), healthy()])
environment(name = "preprod", after = "uat", criteria = [tests_green(), soak(seconds = 1), perf(max_regression = 0.05), healthy()])
environment(name = "prod", after = "preprod", criteria = [owners_approved(), soak(seconds = 1), healthy()], instances = 2)
`

// TestPromoteEndToEnd is the "Done means" on real git, aptly, gpg
// and apt-get: two builds published; the robot takes the first through
// every environment; it holds the second at preprod on a perf regression
// (the excuse printed); prod refuses a build without OWNERS approval,
// even by hand with --override; a third, approved build reaches prod; a
// manual rollback of prod; apt-get update against prod's distribution
// (signed-by, through artifactd) serves the rolled-back build's bytes.
func TestPromoteEndToEnd(t *testing.T) {
	publishtest.RequireAPT(t, "apt-get", "dpkg", "go")
	start := time.Now()
	ctx := context.Background()
	g := gittest.New(t)
	g.Commit("root", map[string]string{"OWNERS": "alice@example.com\n", "ci/environments.star": e2eConfig,
		"services/hello/main.go": "package main\n"})
	s, aptly := publishtest.APTStore(t)
	storeDir, gnupg := s.Root(), aptly.Keyring.Home
	n := 0
	// build commits a change to hello and publishes it as `stride run
	// --publish` would: store, aptly snapshot, dev distribution.
	build := func(author, payload string, ns float64) string {
		t.Helper()
		parent := g.Git("rev-parse", "HEAD")
		head := g.CommitAs(author, "hello: "+payload, map[string]string{"services/hello/main.go": "package main // " + payload + "\n"})
		n++
		run := publishtest.WriteRun(t, t.TempDir(), publishtest.Run{Head: head, Base: parent, Status: report.StatusGreen, NsPerOp: ns})
		deb := apttest.Build(t, t.TempDir(), apttest.Package{Name: "hello", Payload: payload})
		if _, err := publish.Publish(ctx, publish.Options{Dir: g.Dir, RunDir: run, Debs: []string{deb}, DocsDir: "-",
			Store: s, Aptly: aptly, Number: 10 + n}); err != nil {
			t.Fatal(err)
		}
		return head
	}
	stride := func(wantCode int, args ...string) string {
		t.Helper()
		full := append([]string{"-C", g.Dir}, args...)
		if args[0] != "ledger" {
			full = append(full, "--store", storeDir, "--gnupg", gnupg, "--actor", "e2e")
		}
		code, out, errs := runMain(t, full...)
		if code != wantCode {
			t.Fatalf("stride %s = %d, want %d\n%s%s", strings.Join(args, " "), code, wantCode, out, errs)
		}
		return out + errs
	}
	state := func() *ledger.State {
		r, err := gitrepo.Open(g.Dir)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		log, err := ledger.Open(r).Read()
		if err != nil {
			t.Fatal(err)
		}
		return log.State()
	}
	// robot runs promote --auto --confirm once a second until env serves b
	// or rounds pass; it returns the last output.
	robot := func(env, b string, rounds int) string {
		t.Helper()
		var out string
		for i := 0; i < rounds; i++ {
			out = stride(0, "promote", "--auto", "--confirm")
			if state().Env(env).Build == b {
				return out
			}
			time.Sleep(1100 * time.Millisecond)
		}
		return out
	}

	b1 := build("Alice <alice@example.com>", "one", 1000)
	out := robot("prod", b1, 8)
	for _, env := range []string{"dev", "uat", "preprod", "prod"} {
		if got := state().Env(env).Build; got != b1 {
			t.Fatalf("%s serves %.12s, want build 1:\n%s", env, got, out)
		}
	}
	b2 := build("Bob <bob@example.com>", "two", 2000)

	// Build 2 is twice as slow: preprod holds it, and says why.
	robot("uat", b2, 6)
	time.Sleep(1100 * time.Millisecond)
	out = stride(0, "promote", "--auto", "--confirm")
	if !strings.Contains(out, "preprod  blocked "+b1[:12]+" -> "+b2[:12]) || !strings.Contains(out, "✗ perf(max_regression = 0.05)") ||
		!strings.Contains(out, "Hello ns/op: +") {
		t.Fatalf("preprod with a perf regression: want the excuse\n%s", out)
	}
	dry := stride(0, "promote", "--auto")
	if !strings.Contains(dry, "✗ perf(max_regression = 0.05)") || !strings.Contains(dry, "dry run") {
		t.Errorf("dry run:\n%s", dry)
	}

	// By hand into preprod, overriding perf; prod refuses it without the
	// OWNERS approval, even overridden.
	stride(0, "promote", b2, "--to", "preprod", "--reason", "slower on purpose", "--override")
	time.Sleep(1100 * time.Millisecond)
	out = stride(0, "promote", "--auto", "--confirm")
	if !strings.Contains(out, "✗ owners_approved()") || state().Env("prod").Build != b1 {
		t.Fatalf("prod without approval:\n%s", out)
	}
	out = stride(ExitFindings, "promote", b2, "--to", "prod", "--reason", "please", "--override")
	if !strings.Contains(out, "still needs the OWNERS approval") {
		t.Fatalf("override into prod without approval:\n%s", out)
	}

	// Build 3, approved by an owner, goes all the way.
	b3 := build("Bob <bob@example.com>", "three\n\nApproved-by: alice@example.com", 2000)
	out = robot("prod", b3, 10)
	if state().Env("prod").Build != b3 {
		t.Fatalf("build 3 did not reach prod:\n%s", out)
	}

	// A manual rollback of prod: back to build 1.
	out = stride(0, "rollback", "prod", "--reason", "errors after the deploy")
	if !strings.Contains(out, "rolled prod back from "+b3[:12]+" to "+b1[:12]) {
		t.Fatalf("rollback:\n%s", out)
	}
	if out = stride(0, "promote", "--auto", "--confirm"); !strings.Contains(out, "was rolled back from prod") {
		t.Errorf("the robot after the rollback:\n%s", out)
	}
	logOut := stride(0, "ledger", "log", "--env", "prod")
	if !strings.Contains(logOut, "rollback   prod     "+b1[:12]+"  from "+b3[:12]) || !strings.Contains(logOut, "step       prod     "+b1[:12]+"  switch done") {
		t.Errorf("ledger log --env prod:\n%s", logOut)
	}
	if out := stride(0, "ledger", "verify"); !strings.Contains(out, "0 problems") {
		t.Errorf("ledger verify:\n%s", out)
	}

	// What apt-get gets from prod: build 1's bytes, signature checked.
	base := publishtest.StartArtifactd(t, storeDir)
	client := t.TempDir()
	keyFile := filepath.Join(client, "stride.gpg")
	key, err := os.ReadFile(filepath.Join(aptly.PublicDir(), apt.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(keyFile, key, 0o644)
	sources := fmt.Sprintf("deb [signed-by=%s] %s/apt prod main\n", keyFile, base)
	if out, err := publishtest.AptGet(t, client, sources, "update"); err != nil || strings.Contains(out, "W: ") {
		t.Fatalf("apt-get update: %v\n%s", err, out)
	}
	if out, err := publishtest.AptGet(t, client, sources, "download", "hello"); err != nil {
		t.Fatalf("apt-get download hello: %v\n%s", err, out)
	}
	m1, err := s.Manifest(ctx, b1)
	if err != nil {
		t.Fatal(err)
	}
	pk, _ := m1.Package("hello")
	got, err := os.ReadFile(filepath.Join(client, filepath.Base(pk.Artifact)))
	if err != nil {
		t.Fatalf("prod did not serve build 1's hello %s: %v", pk.Version, err)
	}
	art, _ := m1.Artifact(pk.Artifact)
	want, err := store.ReadBlob(ctx, s, art.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("apt-get download hello from prod: %d bytes differ from build 1's %d", len(got), len(want))
	}
	t.Logf("end to end in %v: prod serves hello %s of build %.12s", time.Since(start).Round(time.Millisecond), pk.Version, b1)
}
