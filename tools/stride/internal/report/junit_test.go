package report

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseTestXML(t *testing.T) {
	tests := []struct {
		file    string
		want    []string // name/classname:outcome
		wantErr string
	}{
		{file: "go_fail.xml", want: []string{"TestFormat/log:ok", "TestLevel/log:failure", "TestSkip/log:skipped"}},
		{file: "sh_fail.xml", want: []string{"a/fail_test/a/fail_test:error"}},
		{file: "sh_pass.xml", want: []string{"a/pass_test/a/pass_test:ok"}},
		{file: "single_suite.xml", want: []string{"TestOne/x:ok"}},
		{file: "garbage.xml", wantErr: "garbage.xml"},
		{file: "missing.xml", wantErr: "missing.xml"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			cases, err := ParseTestXML(filepath.Join("testdata", "junit", tc.file))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range cases {
				o := "ok"
				switch {
				case c.Failure != nil:
					o = "failure"
				case c.Error != nil:
					o = "error"
				case c.Skipped != nil:
					o = "skipped"
				}
				got = append(got, c.Name+"/"+c.Classname+":"+o)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("cases (-want +got):\n%s", d)
			}
		})
	}
}

func parse(t *testing.T, file string) []JUnitCase {
	t.Helper()
	c, err := ParseTestXML(filepath.Join("testdata", "junit", file))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The merged junit.xml of a run: a failed Go test, a cached pass, a flaky
// pass, a timeout whose test.xml has passing cases, and a test that never
// ran (no test.xml).
func TestMergeJUnitGolden(t *testing.T) {
	results := []*TestResult{
		{Label: "//libs/log:log_test", Status: "FAILED", DurationMS: 11, LogTail: "--- FAIL: TestLevel"},
		{Label: "//a:pass_test", Status: "PASSED", Cached: true, DurationMS: 44},
		{Label: "//a:flaky_test", Status: "FLAKY", Flaky: true, DurationMS: 300, Tags: []string{"flaky", "small"}},
		{Label: "//a:slow_test", Status: "TIMEOUT", DurationMS: 60000, LogTail: "-- Test timed out at 2024-05-01 --"},
		{Label: "//a:unbuilt_test", Status: "FAILED_TO_BUILD"},
	}
	inputs := [][]JUnitCase{parse(t, "go_fail.xml"), parse(t, "sh_pass.xml"), parse(t, "single_suite.xml"), parse(t, "single_suite.xml"), nil}
	var suites []JUnitSuite
	for i, r := range results {
		suites = append(suites, SuiteFor(r, inputs[i]))
	}
	j := MergeJUnit("stride run 2222222", suites)
	b, err := j.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "junit.golden.xml", b)

	if j.Tests != 8 || j.Failures != 3 || j.Skipped != 1 {
		t.Errorf("totals tests=%d failures=%d skipped=%d, want 8/3/1", j.Tests, j.Failures, j.Skipped)
	}
	wantCases := map[string][]interface{}{
		"//libs/log:log_test": {3, []string{"TestLevel"}},
		"//a:pass_test":       {1, []string(nil)},
		"//a:flaky_test":      {1, []string(nil)},
		"//a:slow_test":       {1, []string{"(timeout)"}},
		"//a:unbuilt_test":    {0, []string{"(failed_to_build)"}},
	}
	for _, r := range results {
		got := []interface{}{r.Cases, r.FailedCases}
		if d := cmp.Diff(wantCases[r.Label], got); d != "" {
			t.Errorf("%s cases (-want +got):\n%s", r.Label, d)
		}
	}
	// The output parses as JUnit again.
	if _, err := parseTestXML(b); err != nil {
		t.Errorf("merged junit does not parse: %v", err)
	}
}
