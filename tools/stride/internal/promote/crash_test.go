package promote_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
	"github.com/strideci/monorepo/tools/stride/internal/ledger"
	"github.com/strideci/monorepo/tools/stride/internal/promote"
	"github.com/strideci/monorepo/tools/stride/internal/store"
)

// crashConfig is what TestCrash passes to its child process.
type crashConfig struct {
	Repo, Store, Switches, Config string
	Clock                         time.Time
	Kill                          string // the crash point: SIGKILL there
}

const crashEnv = "STRIDE_PROMOTE_CRASH_CONFIG"

// TestCrashHelper is TestCrash's child: it runs promote --auto --confirm
// and kills itself with SIGKILL at the configured crash point.
func TestCrashHelper(t *testing.T) {
	raw := os.Getenv(crashEnv)
	if raw == "" {
		t.Skip("only run as the child of TestCrash")
	}
	var c crashConfig
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		t.Fatal(err)
	}
	cfg, err := promote.ParseConfig("environments.star", []byte(c.Config))
	if err != nil {
		t.Fatal(err)
	}
	r, err := gitrepo.Open(c.Repo)
	if err != nil {
		t.Fatal(err)
	}
	s, err := store.OpenFS(c.Store)
	if err != nil {
		t.Fatal(err)
	}
	o := promote.Options{Config: cfg, Repo: r, Ledger: ledger.Open(r), Store: s, Switcher: &fileSwitcher{path: c.Switches},
		Actor: "child", Now: func() time.Time { return c.Clock },
		Hook: func(point string) {
			if point == c.Kill {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
				time.Sleep(time.Minute)
			}
		}}
	promote.Auto(context.Background(), o, true)
	t.Fatal("the crash point was not reached")
}

// TestCrash kills promote --auto --confirm (SIGKILL) right after it
// recorded a promotion, before the switch; and right after the switch,
// before recording it. Each time the next run completes the step and
// says in the ledger that it repaired it.
func TestCrash(t *testing.T) {
	for _, point := range []string{"recorded", "switched"} {
		t.Run(point, func(t *testing.T) {
			f := newFixture(t, "environment(name = \"dev\")\n")
			b1 := f.build("Alice <alice@example.com>", "one", 0)
			raw, _ := json.Marshal(crashConfig{Repo: f.git.Dir, Store: f.s.Root(), Switches: f.sw.path,
				Config: "environment(name = \"dev\")\n", Clock: f.clock, Kill: point})
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$")
			cmd.Env = append(os.Environ(), crashEnv+"="+string(raw))
			out, err := cmd.CombinedOutput()
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
				t.Fatalf("child did not die of SIGKILL: %v\n%s", err, out)
			}
			log := f.log()
			if n := len(log.Events); n != 2 || log.Events[1].Kind != ledger.KindPromotion {
				t.Fatalf("after the crash: %d events", n)
			}
			_, switches := f.sw.serving(t)
			if want := map[string]int{"recorded": 0, "switched": 1}[point]; len(switches) != want {
				t.Fatalf("after the crash: %d switches, want %d", len(switches), want)
			}
			// The next run repairs it.
			f.auto(true)
			log = f.log()
			last := log.Events[len(log.Events)-1]
			if len(log.Events) != 3 || last.Kind != ledger.KindStep || last.Step != ledger.StepSwitch || !last.Repaired ||
				!strings.Contains(last.Detail, "completed after an interrupted run") {
				t.Fatalf("after the repair: %d events, last %+v", len(log.Events), last)
			}
			if serving, _ := f.sw.serving(t); serving["dev"] != b1 {
				t.Errorf("dev serves %q", serving["dev"])
			}
			// And a third run has nothing left to do.
			f.auto(true)
			if n := len(f.log().Events); n != 3 {
				t.Errorf("a third run recorded %d more events", n-3)
			}
		})
	}
}
