package env

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strideci/monorepo/tools/stride/internal/promote"
	"github.com/strideci/monorepo/tools/stride/internal/store"
)

func TestUnitCommand(t *testing.T) {
	tests := []struct {
		name, unit string
		want       string // the command, words joined by " "; ROOT for the root
		wantErr    string
	}{
		{"service", "[Service]\nExecStart=/usr/bin/svc -config /etc/svc/config.json\n", "ROOT/usr/bin/svc -config ROOT/etc/svc/config.json", ""},
		{"prefixes and paths the package lacks", "[Service]\nExecStart=-/usr/bin/svc -root /srv/data\n", "ROOT/usr/bin/svc -root /srv/data", ""},
		{"no ExecStart", "[Service]\nType=simple\n", "", "no ExecStart= line"},
		{"no unit", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for _, f := range []string{"usr/bin/svc", "etc/svc/config.json"} {
				os.MkdirAll(filepath.Join(root, filepath.Dir(f)), 0o755)
				os.WriteFile(filepath.Join(root, f), nil, 0o755)
			}
			if tt.unit != "" {
				os.MkdirAll(filepath.Join(root, "lib/systemd/system"), 0o755)
				os.WriteFile(filepath.Join(root, "lib/systemd/system/svc.service"), []byte(tt.unit), 0o644)
			}
			cmd, err := unitCommand(root, "svc")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.ReplaceAll(strings.Join(cmd, " "), root, "ROOT"); got != tt.want {
				t.Errorf("command %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCommandEnv(t *testing.T) {
	got := CommandEnv(promote.Deployment{Env: "uat", Build: "b2", From: "b1", Change: "c1", Instances: 3,
		Packages: []store.Package{{Name: "release-board", Version: "1.2.0"}, {Name: "artifactd", Version: "0.9.1"}}})
	want := "STRIDE_ENV=uat STRIDE_BUILD=b2 STRIDE_FROM=b1 STRIDE_CHANGE=c1 STRIDE_INSTANCES=3 STRIDE_VERSION_ARTIFACTD=0.9.1 STRIDE_VERSION_RELEASE_BOARD=1.2.0 STRIDE_PACKAGES=artifactd=0.9.1 release-board=1.2.0"
	if strings.Join(got, " ") != want {
		t.Errorf("CommandEnv:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	if l := listenEnv("release-board"); l != "RELEASE_BOARD_LISTEN" {
		t.Errorf("listenEnv = %s", l)
	}
}

func TestDefaultRoot(t *testing.T) {
	t.Setenv(RootEnv, "")
	t.Setenv("XDG_DATA_HOME", "/data")
	a, _ := DefaultRoot("/src/one/main")
	b, _ := DefaultRoot("/src/two/main")
	if !strings.HasPrefix(a, "/data/stride/envs/main-") || len(filepath.Base(a)) != len("main-")+8 || a == b {
		t.Errorf("DefaultRoot: %s and %s: want /data/stride/envs/main-<8 hex>, distinct per clone", a, b)
	}
	t.Setenv(RootEnv, "/elsewhere")
	if r, _ := DefaultRoot("/src/one/main"); r != "/elsewhere" {
		t.Errorf("with %s: %s", RootEnv, r)
	}
	if _, err := Open("/x", "Bad Name"); err == nil {
		t.Error("Open of a bad name: no error")
	}
}

func TestDesiredSetFind(t *testing.T) {
	var d Desired
	for i := 1; i <= 2; i++ {
		d.Set(Want{Service: "a", Slot: i, Version: "1"})
	}
	d.Set(Want{Service: "a", Slot: 2, Version: "2"})
	w, ok := d.Find("a", 2)
	if !ok || w.Version != "2" || len(d.Instances) != 2 {
		t.Errorf("Find after Set: %+v %v (%d instances)", w, ok, len(d.Instances))
	}
	if _, ok := d.Find("b", 1); ok {
		t.Error("Find of an unknown instance")
	}
}

// TestStatusNotUp: an environment never brought up reads as down with no
// instances; Up is false for a stale pid file.
func TestStatusNotUp(t *testing.T) {
	root := t.TempDir()
	l, _ := Open(root, "uat")
	os.MkdirAll(l.Dir, 0o755)
	os.WriteFile(l.SupervisorPID(), []byte("1\n"), 0o644)
	st, err := ReadStatus(root, "uat")
	if err != nil || st.Up || len(st.Instances) != 0 || st.Schema != StatusSchema {
		t.Fatalf("status of an environment never up: %+v %v", st, err)
	}
	if _, err := Deploy(context.Background(), DeployOptions{Layout: l}); err == nil || !strings.Contains(err.Error(), "stride env up uat") {
		t.Errorf("deploy to an environment not up: %v", err)
	}
}
