package publish_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/apt"
	"github.com/strideci/monorepo/tools/stride/internal/apt/apttest"
	"github.com/strideci/monorepo/tools/stride/internal/publish/publishtest"
	"github.com/strideci/monorepo/tools/stride/internal/report"
	"github.com/strideci/monorepo/tools/stride/internal/serving"
	"github.com/strideci/monorepo/tools/stride/internal/store"
)

var (
	faultRounds = flag.Int("faults.rounds", 2, "TestStoreFaults: operations to run and kill (ci/bench store-faults runs 200)")
	faultSeed   = flag.Int64("faults.seed", 0, "TestStoreFaults: random seed (0: the time)")
)

// faultRig runs the stride binary against one store and checks it after
// each operation.
type faultRig struct {
	t       *testing.T
	bin     string
	ws      string
	store   string
	gnupg   string
	debs    map[string]string // payload → .deb of hello
	world   string
	commits int
	builds  []string
	debOf   map[string]string // build → its hello .deb
	rng     *rand.Rand
	// took is the running mean duration of each operation that was not
	// killed, to pick kill times inside it.
	took map[string]time.Duration
}

func (r *faultRig) stride(args ...string) *exec.Cmd {
	cmd := exec.Command(r.bin, append([]string{"-C", r.ws}, args...)...)
	cmd.Env = append(os.Environ(), "STRIDE_STORE="+r.store, "STRIDE_GNUPGHOME="+r.gnupg)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // kill aptly and gpg with it
	return cmd
}

// op picks the next operation: its name and arguments.
func (r *faultRig) op() (string, []string) {
	n := r.rng.Intn(100)
	switch {
	case n < 40 || len(r.builds) == 0:
		r.commits++
		head := fmt.Sprintf("%040x", 0xabc000+r.commits)
		run := publishtest.MakeRun(r.t, r.ws, head, report.StatusGreen, 0)
		payloads := []string{"a", "b", "c"}
		deb := r.debs[payloads[r.rng.Intn(len(payloads))]]
		r.builds = append(r.builds, head)
		r.debOf[head] = deb
		return "publish", []string{"publish", "--run", run, "--deb", deb, "--deb", r.world, "--number", fmt.Sprint(r.commits), "--docs", "-"}
	case n < 50:
		b := r.builds[r.rng.Intn(len(r.builds))]
		return "publish-uat", []string{"publish", "--run", filepath.Join(r.ws, "out", "runs", b), "--deb", r.debOf[b], "--deb", r.world,
			"--number", fmt.Sprint(r.indexOf(b) + 1), "--dist", "uat", "--docs", "-"}
	case n < 70:
		return "gc", []string{"store", "gc", "--confirm", "--grace", "0s", "--keep-last", fmt.Sprint(r.rng.Intn(3))}
	case n < 80:
		return "pin", []string{"store", "pin", "--reason", "fault test", r.builds[r.rng.Intn(len(r.builds))]}
	case n < 85:
		return "unpin", []string{"store", "unpin", r.builds[r.rng.Intn(len(r.builds))]}
	}
	return "rebuild-apt", []string{"store", "rebuild-apt"}
}

func (r *faultRig) indexOf(b string) int {
	for i, x := range r.builds {
		if x == b {
			return i
		}
	}
	return -1
}

// kept is what must never be lost: the builds the published tree serves
// and the pinned ones. It fails the test when the tree serves packages no
// build in the store has; it returns the tree's error when the tree cannot
// be read (aptly renames its index files one by one, so a kill in the
// middle of a switch leaves a Release that does not match its Packages
// until the next publish or rebuild-apt; gc refuses meanwhile).
func (r *faultRig) kept(ctx context.Context, s *store.FS) (map[string]string, error) {
	out := map[string]string{}
	pins, err := s.Pins(ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	for b := range pins {
		out[b] = "pinned"
	}
	envs, err := (&serving.Tree{Dir: filepath.Join(r.store, "aptly", "public"), Store: s}).Environments(ctx)
	if err != nil {
		return out, err
	}
	for env, builds := range envs {
		if len(builds) == 0 {
			r.t.Fatalf("%s serves packages that no build in the store has: a served build is gone", env)
		}
		// Builds with identical packages are one set: the tree cannot tell
		// which of them the environment serves, and gc keeps the one the
		// records agree on.
		out["env "+env] = strings.Join(builds, " ")
	}
	return out, nil
}

// check verifies the store and that every build in must is still whole;
// it returns what must be kept now, and whether the published tree could
// be read.
func (r *faultRig) check(ctx context.Context, what string, must map[string]string) (map[string]string, bool) {
	s, err := store.OpenExistingFS(r.store)
	if err != nil {
		r.t.Fatalf("after %s: %v", what, err)
	}
	res, err := store.Verify(ctx, s)
	if err != nil {
		r.t.Fatalf("after %s: verify: %v", what, err)
	}
	if !res.OK() {
		r.t.Fatalf("after %s: stride store verify finds problems: %+v", what, res.Problems)
	}
	for k, v := range must {
		if env := strings.TrimPrefix(k, "env "); env != k {
			ok := false
			for _, b := range strings.Fields(v) {
				if _, err := s.Manifest(ctx, b); err == nil {
					ok = true
				}
			}
			if !ok {
				r.t.Fatalf("after %s: every build %s served before (%s) is gone", what, env, v)
			}
			continue
		}
		if _, err := s.Manifest(ctx, k); err != nil {
			r.t.Fatalf("after %s: build %s (%s before) is gone: %v", what, k, v, err)
		}
	}
	now, err := r.kept(ctx, s) // the tree serves only builds that exist
	if err != nil {
		for b, why := range must { // still owed
			if _, ok := now[b]; !ok {
				now[b] = why
			}
		}
		return now, false
	}
	return now, true
}

// TestStoreFaults runs random publishes, gcs, pins, unpins and rebuilds of
// aptly's database with the stride binary against one store, kills most of
// them with SIGKILL (the whole process group, aptly and gpg too) at a
// random moment, and checks after each that `stride store verify` passes
// and that no build that was served or pinned before is gone. At the end an
// uninterrupted rebuild-apt and gc must succeed: what was left half done
// is completed. ci/bench store-faults runs 200 rounds; go test, 2.
func TestStoreFaults(t *testing.T) {
	if os.Getenv("TEST_SRCDIR") != "" {
		t.Skip("skipping under bazel test: runs in go test ./... and ci/bench store-faults")
	}
	if err := apt.Available(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("skipping: go is not installed")
	}
	ctx := context.Background()
	seed := *faultSeed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	t.Logf("seed %d (-faults.seed=%d repeats this run)", seed, seed)
	bin := filepath.Join(t.TempDir(), "stride")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/strideci/monorepo/tools/stride/cmd/stride").CombinedOutput(); err != nil {
		t.Fatalf("go build stride: %v\n%s", err, out)
	}
	gnupg, err := os.MkdirTemp("", "g")
	if err != nil {
		t.Fatal(err)
	}
	kr := &apt.Keyring{Home: gnupg}
	t.Cleanup(func() { kr.KillAgent(); os.RemoveAll(gnupg) })
	if _, _, err := kr.Ensure(ctx, "fault test", "faults@example.invalid"); err != nil {
		t.Fatal(err)
	}
	r := &faultRig{t: t, bin: bin, ws: t.TempDir(), store: filepath.Join(t.TempDir(), "store"), gnupg: gnupg,
		debs: map[string]string{}, debOf: map[string]string{}, rng: rand.New(rand.NewSource(seed)), took: map[string]time.Duration{}}
	debDir := t.TempDir()
	for _, p := range []string{"a", "b", "c", "w"} {
		d := filepath.Join(debDir, p)
		os.MkdirAll(d, 0o755)
		name := "hello"
		if p == "w" {
			name = "world"
		}
		deb := apttest.Build(t, d, apttest.Package{Name: name, Payload: p})
		if p == "w" {
			r.world = deb
		} else {
			r.debs[p] = deb
		}
	}
	// The first publish is not killed: it creates the store.
	if out, err := r.stride(r.opArgsFirst()...).CombinedOutput(); err != nil {
		t.Fatalf("first publish: %v\n%s", err, out)
	}
	counts := map[string][2]int{} // op → [runs, kills]
	start := time.Now()
	before, _ := r.check(ctx, "the first publish", nil)
	torn := 0
	for i := 0; i < *faultRounds; i++ {
		name, args := r.op()
		cmd := r.stride(args...)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Most runs are killed somewhere inside the operation's usual
		// duration; one in five completes, so the store moves on.
		kill := r.rng.Intn(5) != 0
		mean := r.took[name]
		if mean == 0 {
			mean = 3 * time.Second
		}
		delay := time.Duration(r.rng.Int63n(int64(mean)*6/5 + 1))
		done := make(chan error, 1)
		t0 := time.Now()
		go func() { done <- cmd.Wait() }()
		var werr error
		killed := false
		if kill {
			select {
			case werr = <-done:
			case <-time.After(delay):
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				werr = <-done
				killed = true
			}
		} else {
			werr = <-done
		}
		c := counts[name]
		c[0]++
		if killed {
			c[1]++
		} else {
			d := time.Since(t0)
			if r.took[name] == 0 {
				r.took[name] = d
			} else {
				r.took[name] = (r.took[name]*3 + d) / 4
			}
			// A run that was not killed fails only for a documented
			// reason: gc refusing while the records disagree (exit 1),
			// a build gc removed (exit 2 for pin/publish-uat).
			if werr != nil && !(name == "gc" && strings.Contains(out.String(), "disagree")) &&
				!(strings.Contains(out.String(), "no build") || strings.Contains(out.String(), "no finished run")) {
				t.Fatalf("round %d: %s %v: %v\n%s", i, name, args, werr, out.String())
			}
		}
		counts[name] = c
		what := fmt.Sprintf("round %d: %s killed after %v", i, name, delay.Round(time.Millisecond))
		if !killed {
			what = fmt.Sprintf("round %d: %s (not killed)", i, name)
		}
		var ok bool
		before, ok = r.check(ctx, what, before)
		if !ok {
			torn++
			what += " (published tree mid-switch)"
		}
		if testing.Verbose() {
			t.Log(what)
		}
	}
	// What was left half done is completed by running the commands again.
	for _, args := range [][]string{{"store", "rebuild-apt"}, {"store", "gc", "--confirm", "--grace", "0s"}, {"store", "verify"}} {
		if out, err := r.stride(args...).CombinedOutput(); err != nil {
			t.Fatalf("after the faults, stride %v: %v\n%s", args, err, out)
		}
	}
	if _, ok := r.check(ctx, "the final rebuild and gc", before); !ok {
		t.Fatal("the published tree is still unreadable after rebuild-apt")
	}
	var ops []string
	kills := 0
	for name, c := range counts {
		ops = append(ops, fmt.Sprintf("%s %d (%d killed)", name, c[0], c[1]))
		kills += c[1]
	}
	sort.Strings(ops)
	t.Logf("store faults: %d rounds, %d killed with SIGKILL, store verified after each, no served or pinned build lost; %d left the published tree mid-switch; %s; %v",
		*faultRounds, kills, torn, strings.Join(ops, ", "), time.Since(start).Round(time.Second))
}

func (r *faultRig) opArgsFirst() []string {
	r.commits++
	head := fmt.Sprintf("%040x", 0xabc000+r.commits)
	run := publishtest.MakeRun(r.t, r.ws, head, report.StatusGreen, 0)
	r.builds = append(r.builds, head)
	r.debOf[head] = r.debs["a"]
	return []string{"publish", "--run", run, "--deb", r.debs["a"], "--deb", r.world, "--number", fmt.Sprint(r.commits), "--docs", "-"}
}
