package affected

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/strideci/monorepo/tools/stride/internal/gitrepo"
)

// diskFiles is a fileSet read from dir alone (no git tree): read and
// digest fall back to the disk for paths absent from entries.
func diskFiles(t testing.TB, dir string, files map[string]string) *fileSet {
	t.Helper()
	entries := map[string]gitrepo.TreeEntry{}
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
		e, ok, err := diskEntry(full)
		if err != nil || !ok {
			t.Fatalf("hash %s: %v", p, err)
		}
		entries[p] = e
	}
	onDisk := map[string]bool{}
	for p := range entries {
		onDisk[p] = true
	}
	return &fileSet{entries: entries, disk: dir, onDisk: onDisk}
}

func TestBazelrcText(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{name: "no bazelrc", files: map[string]string{}, want: ""},
		{name: "empty bazelrc", files: map[string]string{".bazelrc": ""}, want: ""},
		{name: "blank lines and comments only", files: map[string]string{".bazelrc": "\n  \n# c\n"}, want: ""},
		{name: "empty try-import", files: map[string]string{
			".bazelrc":     "try-import %workspace%/user.bazelrc\nbuild --copt=-O2\n",
			"user.bazelrc": "",
		}, want: "build --copt=-O2"},
		{name: "empty import", files: map[string]string{
			".bazelrc": "import %workspace%/empty.rc\n",
			"empty.rc": "\n",
		}, want: ""},
		{name: "missing try-import", files: map[string]string{
			".bazelrc": "try-import %workspace%/config/optional\n",
		}, want: ""},
		{name: "missing import", files: map[string]string{
			".bazelrc": "import %workspace%/config/mandatory\n",
		}, want: "<missing import config/mandatory>"},
		{name: "import expanded in place", files: map[string]string{
			".bazelrc":         "build --define=a=1\nimport %workspace%/config/mandatory\ntest --test_env=B=1\n",
			"config/mandatory": "build --javacopt=\"-source 7 -target 7\"\n",
		}, want: "build --define=a=1\nbuild --javacopt=\"-source 7 -target 7\"\ntest --test_env=B=1"},
		{name: "neutral flags", files: map[string]string{
			".bazelrc": "build --verbose_failures\nbuild --jobs 4 --keep_going --nocolor --color=yes -k\ncommon --announce_rc\nstartup --host_jvm_args=-Xmx1g\n",
		}, want: ""},
		{name: "neutral flags beside others", files: map[string]string{
			".bazelrc": "build --jobs 4 --copt -O2 --verbose_failures --define=x=1\n",
		}, want: "build --copt -O2 --define=x=1"},
		{name: "commands nothing stride answers for reads", files: map[string]string{
			".bazelrc": "run --run_under=gdb\nclean --async\ninfo --show_make_env\nrun:dbg --compilation_mode=dbg\n",
		}, want: ""},
		{name: "configs count", files: map[string]string{
			".bazelrc": "build:ci --define=ci=1\ntest:ci --test_env=CI=1\nquery --noimplicit_deps\n",
		}, want: "build:ci --define=ci=1\ntest:ci --test_env=CI=1\nquery --noimplicit_deps"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := bazelrcText(diskFiles(t, t.TempDir(), tc.files), ".bazelrc", map[string]bool{}, 0)
			if got != tc.want {
				t.Errorf("bazelrcText = %q, want %q", got, tc.want)
			}
		})
	}
}

// FuzzBazelrc feeds arbitrary .bazelrc texts (and an imported file) to the
// reader, which parses user input and must never panic.
func FuzzBazelrc(f *testing.F) {
	f.Add("", "")
	f.Add("build --jobs=2\n", "")
	f.Add("try-import %workspace%/user.rc\n", "")
	f.Add("import %workspace%/user.rc\ntest --test_env=A=1 --test_output errors\n", "build:ci --config=x\n")
	f.Add("build --workspace_status_command=%workspace%/user.rc\n", "import %workspace%/.bazelrc\n")
	f.Add("common --announce_rc # c\nstartup --host_jvm_args=-Xmx1g\n", "\n\n")
	dir := f.TempDir() // one per worker process; the files are rewritten each time
	f.Fuzz(func(t *testing.T, rc, imported string) {
		fs := diskFiles(t, dir, map[string]string{".bazelrc": rc, "user.rc": imported})
		rcFiles := map[string]bool{}
		_ = bazelrcText(fs, ".bazelrc", rcFiles, 0)
		_, _ = testOnlyChange(rc, imported)
		_ = computeGlobals(fs, &Snapshot{})
	})
}
