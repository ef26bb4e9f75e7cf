package publish_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/apt"
	"github.com/strideci/monorepo/tools/stride/internal/apt/apttest"
	"github.com/strideci/monorepo/tools/stride/internal/publish"
	"github.com/strideci/monorepo/tools/stride/internal/publish/publishtest"
	"github.com/strideci/monorepo/tools/stride/internal/report"
	"github.com/strideci/monorepo/tools/stride/internal/store"
)

// TestAPTIntegration publishes two builds into aptly, serves the store with
// artifactd on 127.0.0.1 and checks the result with Debian's own tools:
// apt-get update verifies the signature with a signed-by keyring (and fails
// with the wrong key), apt-get download returns the published bytes, dpkg
// unpacks them, and lintian finds no errors.
func TestAPTIntegration(t *testing.T) {
	publishtest.RequireAPT(t, "apt-get", "dpkg", "lintian", "go")
	ctx := context.Background()
	ws := t.TempDir()
	root, s, a, mk := newAptStore(t)
	world := mk("w", apttest.Package{Name: "world", Payload: "stable", Padding: 1 << 20})
	docs := publishtest.DocsDir(t)
	var times []string
	for i, hello := range []string{mk("h1", apttest.Package{Name: "hello", Payload: "one"}), mk("h2", apttest.Package{Name: "hello", Payload: "two"})} {
		start := time.Now()
		r, err := publish.Publish(ctx, publish.Options{Dir: ws, RunDir: publishtest.MakeRun(t, ws, publishtest.Sha(5+i), report.StatusGreen, 0), Debs: []string{hello, world},
			DocsDir: docs, Store: s, Aptly: a, Number: 20 + i})
		if err != nil {
			t.Fatal(err)
		}
		if !r.Switched {
			t.Errorf("build %d did not switch dev", i+1)
		}
		times = append(times, fmt.Sprintf("build %d: %v (steps %v)", i+1, time.Since(start).Round(time.Millisecond), r.Steps))
	}
	t.Logf("publish times: %s", strings.Join(times, "; "))
	m2, err := s.Manifest(ctx, publishtest.Sha(6))
	if err != nil {
		t.Fatal(err)
	}

	// The documented how-to (docs/publish.md): artifactd with its flags, on
	// a free port of 127.0.0.1 and the test's store.
	howTo := publishtest.ReadHowTo(t)
	var args []string
	for i := 0; i < len(howTo.ArtifactdArgs); i++ {
		a := howTo.ArtifactdArgs[i]
		if i+1 < len(howTo.ArtifactdArgs) {
			switch a {
			case "-store", "-root", "-listen":
				args = append(args, a, map[string]string{"-store": root, "-root": t.TempDir(), "-listen": "127.0.0.1:0"}[a])
				i++
				continue
			}
		}
		args = append(args, a)
	}
	base := publishtest.StartArtifactdArgs(t, args)
	// The client gets the key from the server, as a user would, from the
	// documented URL.
	if howTo.KeyURL != publishtest.HowToServer+"/apt/"+apt.KeyFile {
		t.Errorf("documented key URL %s, want %s", howTo.KeyURL, publishtest.HowToServer+"/apt/"+apt.KeyFile)
	}
	resp, err := http.Get(strings.Replace(howTo.KeyURL, publishtest.HowToServer, base, 1))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET key: %v %v", resp, err)
	}
	key, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	client := t.TempDir()
	keyFile := filepath.Join(client, "stride.gpg")
	os.WriteFile(keyFile, key, 0o644)

	sources := strings.NewReplacer(publishtest.HowToServer, base, publishtest.HowToKeyring, keyFile).Replace(howTo.SourcesLine) + "\n"
	if want := fmt.Sprintf("deb [signed-by=%s] %s/apt dev main\n", keyFile, base); sources != want {
		t.Errorf("documented sources line gives %q, want %q", sources, want)
	}
	if fmt.Sprint(howTo.AptGet) != "[[update] [install hello]]" {
		t.Errorf("documented apt-get commands %v, want update and install hello", howTo.AptGet)
	}
	out, err := publishtest.AptGet(t, client, sources, "update")
	if err != nil || strings.Contains(out, "NO_PUBKEY") || strings.Contains(out, "not signed") || strings.Contains(out, "W: ") {
		t.Fatalf("apt-get update: %v\n%s", err, out)
	}
	for _, pk := range m2.Packages {
		out, err := publishtest.AptGet(t, client, sources, "download", pk.Name+"="+pk.Version)
		if err != nil {
			t.Fatalf("apt-get download %s=%s: %v\n%s", pk.Name, pk.Version, err, out)
		}
		got, err := os.ReadFile(filepath.Join(client, filepath.Base(pk.Artifact)))
		if err != nil {
			t.Fatalf("downloaded file: %v\n%s", err, out)
		}
		art, _ := m2.Artifact(pk.Artifact)
		want, err := store.ReadBlob(ctx, s, art.Digest)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("apt-get download %s: %d bytes differ from the published %d", pk.Name, len(got), len(want))
		}
	}
	hello, _ := m2.Package("hello")
	w, _ := m2.Package("world")
	if hello.Version != "0.21.0+gggggggg" || w.Version != "0.20.0+gfffffff" || w.Since != publishtest.Sha(5) {
		t.Errorf("versions: hello %+v, world %+v", hello, w)
	}
	// The documented `apt-get install hello`, with dpkg installing into a
	// temporary root (dpkg --root needs root: otherwise dpkg -x unpacks
	// the downloaded package there).
	inst := t.TempDir()
	debFile := filepath.Join(client, filepath.Base(hello.Artifact))
	if os.Geteuid() == 0 {
		out, err := publishtest.AptInstallRoot(t, client, sources, inst, howTo.AptGet[1][1:]...)
		if err != nil {
			t.Fatalf("apt-get install hello (dpkg --root %s): %v\n%s", inst, err, out)
		}
		st, err := exec.Command("dpkg", "--root="+inst, "-s", "hello").CombinedOutput()
		if err != nil || !strings.Contains(string(st), "Status: install ok installed") || !strings.Contains(string(st), "Version: "+hello.Version) {
			t.Fatalf("dpkg -s hello after apt-get install: %v\n%s\n(apt-get: %s)", err, st, out)
		}
	} else {
		t.Logf("not root: dpkg -x instead of apt-get install (dpkg --root needs root)")
		if out, err := exec.Command("dpkg", "-x", debFile, inst).CombinedOutput(); err != nil {
			t.Fatalf("dpkg -x: %v\n%s", err, out)
		}
	}
	if b, err := os.ReadFile(filepath.Join(inst, "usr/bin/hello")); err != nil || !strings.Contains(string(b), "two") {
		t.Fatalf("installed /usr/bin/hello = %q, %v", b, err)
	}
	for _, f := range []string{"lib/systemd/system/hello.service", "etc/hello/config.json"} {
		if _, err := os.Stat(filepath.Join(inst, f)); err != nil {
			t.Errorf("installed tree: %v", err)
		}
	}
	// lintian: no errors on the published packages.
	lint := exec.Command("lintian", "--no-cfg", "--fail-on", "error", debFile, filepath.Join(client, filepath.Base(w.Artifact)))
	if out, err := lint.CombinedOutput(); err != nil {
		t.Errorf("lintian: %v\n%s", err, out)
	}
	// The signature is really checked: another key is refused.
	other := filepath.Join(client, "other.gpg")
	os.WriteFile(other, []byte{}, 0o644)
	badClient := t.TempDir()
	out, err = publishtest.AptGet(t, badClient, fmt.Sprintf("deb [signed-by=%s] %s/apt dev main\n", other, base), "update")
	if err == nil && !strings.Contains(out, "NO_PUBKEY") && !strings.Contains(out, "not signed") && !strings.Contains(out, "couldn't be verified") {
		t.Errorf("apt-get update with the wrong key succeeded:\n%s", out)
	}
	// The build's other assets through artifactd.
	for path, want := range map[string]string{"/builds/" + publishtest.Sha(6) + "/": `"schema": "stride.manifest/v1"`, "/docs/latest/": "hello", "/docs/" + publishtest.Sha(6) + "/intro.html": `href="build.html"`} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("GET %s: %d, want it to contain %q", path, resp.StatusCode, want)
		}
	}
}
