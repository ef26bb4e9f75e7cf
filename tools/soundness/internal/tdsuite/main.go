package tdsuite

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
)

const usage = `usage: tdsuite -testdata DIR -stride BIN [flags]

Runs target-determinator's integration suite (Tests.java and the generic
cases of TargetDeterminatorSpecificFlagsTest, transcribed) against
` + "`stride affected --kind all`" + `, offline, on the bazel on PATH, over a local
copy of github.com/bazel-contrib/target-determinator-testdata (a clone or a
bare mirror with its tags; e.g. the one the ` + "`fetch`" + ` tool makes under
/work/.mirror/bazel-contrib+target-determinator-testdata/repo). Prints one
line per step (pass, over-build, wrong, crash) and the totals; exit 1 when a
step is wrong or crashed. See docs/benchmarks.md.

Flags:
`

// Main runs the suite with args and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tdsuite", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	var o Options
	fs.StringVar(&o.Testdata, "testdata", os.Getenv("TD_TESTDATA"), "clone or mirror of target-determinator-testdata (default $TD_TESTDATA)")
	fs.StringVar(&o.Stride, "stride", "", "stride binary")
	fs.StringVar(&o.Bazel, "bazel", "bazel", "bazel binary")
	fs.StringVar(&o.Shims, "shims", "third_party/bazel", "directory of the monorepo's shims of rules_cc and remote_coverage_tools")
	fs.StringVar(&o.RulesJava, "rules-java", "/usr/share/bazel/rules/java", "local rules_java")
	fs.StringVar(&o.Platforms, "platforms", "third_party/tdsuite/platforms", "local platforms with //:incompatible")
	fs.StringVar(&o.JavaTools, "java-tools", "third_party/tdsuite/remote_java_tools", "stub of remote_java_tools")
	fs.StringVar(&o.Work, "work", filepath.Join(os.TempDir(), "stride-tdsuite"), "scratch directory (clone, distdir, stride cache)")
	run := fs.String("run", "", "only the cases whose name matches this regular expression")
	jsonOut := fs.String("json", "", "write every step's result as JSON here")
	verbose := fs.Bool("v", false, "log each step to stderr")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.Testdata == "" || o.Stride == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	if *run != "" {
		re, err := regexp.Compile(*run)
		if err != nil {
			fmt.Fprintf(stderr, "tdsuite: -run: %v\n", err)
			return 2
		}
		o.Only = re.MatchString
	}
	if *verbose {
		o.Log = stderr
	}
	rs, err := Run(context.Background(), o)
	if err != nil {
		fmt.Fprintf(stderr, "tdsuite: %v\n", err)
		return 3
	}
	Print(stdout, rs)
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(rs, "", "  ")
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintf(stderr, "tdsuite: %v\n", err)
			return 3
		}
	}
	c := Counts(rs)
	if c[Wrong] > 0 || c[Crash] > 0 {
		return 1
	}
	return 0
}
