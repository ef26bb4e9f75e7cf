package status_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/strideci/monorepo/tools/stride/internal/change"
	"github.com/strideci/monorepo/tools/stride/internal/promote/promotetest"
	"github.com/strideci/monorepo/tools/stride/internal/status"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s differs (-want +got; go test -update rewrites it):\n%s", name, d)
	}
}

// TestGolden renders the status of the scenario's changes in the three
// formats: build 2 (waiting for prod's OWNERS approval and soak), build 1
// (in prod), and a change no build contains.
func TestGolden(t *testing.T) {
	f := promotetest.New(t, promotetest.Config, nil)
	ids := f.Scenario()
	facts, err := status.Load(context.Background(), status.Sources{Config: f.Config, Repo: f.Repo(), Store: f.Store, Now: f.Clock})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, head string }{
		{"waiting", ids[1]},
		{"in-prod", ids[0]},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ch, err := change.Resolve(f.Repo(), change.Options{Base: c.head + "^", Head: c.head})
			if err != nil {
				t.Fatal(err)
			}
			s, err := facts.Of(ch)
			if err != nil {
				t.Fatal(err)
			}
			for _, format := range status.Formats {
				out, err := s.Render(format)
				if err != nil {
					t.Fatal(err)
				}
				ext := map[string]string{"md": ".md", "json": ".json", "checks-json": ".checks.json"}[format]
				golden(t, c.name+ext, out)
			}
		})
	}
	t.Run("unbuilt", func(t *testing.T) {
		head := f.Git.CommitAs("Eve <eve@example.com>", "hello: not built yet", map[string]string{"services/hello/new.go": "package main\n"})
		ch, err := change.Resolve(f.Repo(), change.Options{Base: head + "^", Head: head})
		if err != nil {
			t.Fatal(err)
		}
		s, err := facts.Of(ch)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Builds) != 0 || s.Conclusion != "action_required" || !strings.Contains(s.Verdict, "no published build") {
			t.Errorf("unbuilt change: %+v", s)
		}
		golden(t, "unbuilt.md", []byte(s.Markdown()))
	})
}

// big is a status with 1,000 changed files under 50 OWNERS files of 50
// teams, none approved, and 30 builds.
func big() *status.Status {
	s := &status.Status{Schema: status.Schema, Base: strings.Repeat("a", 40), Head: strings.Repeat("b", 40), Files: 1000,
		Verdict: "in uat; 1000 of 1000 files lack their owners' approval", Conclusion: "action_required",
		Environments: []string{"dev", "uat", "preprod", "prod"}}
	for i := 0; i < 30; i++ {
		b := status.Build{Build: fmt.Sprintf("%040d", i), Number: 100 - i}
		for _, e := range s.Environments {
			b.Envs = append(b.Envs, status.EnvStatus{Env: e, State: status.StateWaiting, WaitsFor: []string{"soak 1h12m", "approval from @team-" + e},
				Evaluation: &status.Evaluation{Verdict: "blocked", Criteria: []status.Criterion{{Criterion: "soak(hours = 2)", Mark: "✗", Status: "fail", Evidence: strings.Repeat("in uat for 40m; ", 40)}}}})
		}
		s.Builds = append(s.Builds, b)
	}
	s.Owners = status.Owners{Files: 1000, Missing: 1000}
	for i := 0; i < 50; i++ {
		var can []string
		for j := 0; j < 20; j++ {
			can = append(can, fmt.Sprintf("person%d-%d@example.com", i, j))
		}
		for k := 0; k < 20; k++ { // 20 files per team: 1,000 in all
			s.Owners.Blocking = append(s.Owners.Blocking, status.Block{OwnersFile: fmt.Sprintf("team%02d/dir%02d/OWNERS", i, k), Dir: fmt.Sprintf("team%02d/dir%02d/", i, k),
				Files: 1, Missing: 1, Needs: fmt.Sprintf("a member of @team-%02d", i), CanApprove: append([]string{fmt.Sprintf("@team-%02d", i)}, can...)})
		}
		s.Owners.Suggested = append(s.Owners.Suggested, status.Reviewer{Email: fmt.Sprintf("person%d-0@example.com", i), Via: []string{fmt.Sprintf("@team-%02d", i)}, Files: 20})
	}
	s.Owners.Command = "stride owners suggest --base aaaaaaaaaaaa --head bbbbbbbbbbbb"
	return s
}

// TestMarkdownFits: a change too large for one comment is summarized to
// fit GitHub's limit, every table whole.
func TestMarkdownFits(t *testing.T) {
	s := big()
	md := s.Markdown()
	if n := len([]rune(md)); n > status.MaxComment {
		t.Fatalf("markdown is %d characters, over %d", n, status.MaxComment)
	}
	if !strings.Contains(md, "more OWNERS files") || !strings.Contains(md, "older builds") {
		t.Errorf("summary lines missing:\n%s", md)
	}
	// Every table row is whole: it starts and ends with a pipe.
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "|") && !strings.HasSuffix(l, "|") {
			t.Errorf("cut row: %q", l)
		}
	}
	cr := s.CheckRun()
	if len(cr.Output.Annotations) != status.MaxAnnotations || len([]rune(cr.Output.Text)) > status.MaxComment || cr.Status != "completed" {
		t.Errorf("check run: %d annotations, %d characters of text, status %s", len(cr.Output.Annotations), len(cr.Output.Text), cr.Status)
	}
	var back status.Status
	b, _ := s.JSON()
	if err := json.Unmarshal(b, &back); err != nil || back.Schema != status.Schema {
		t.Errorf("json: %v %q", err, back.Schema)
	}
}

// TestEscaping: HTML and Markdown in a subject or evidence stay text.
func TestEscaping(t *testing.T) {
	s := big()
	s.Subject = `<script>alert("x")</script> | *bold* [link](javascript:x)`
	s.Builds[0].Envs[0].Evaluation.Criteria[0].Evidence = `<img src=x onerror=alert(1)>`
	md := s.Markdown()
	for _, bad := range []string{"<script", "<img", "[link]"} {
		if strings.Contains(md, bad) {
			t.Errorf("markdown contains %q", bad)
		}
	}
}

func BenchmarkRender(b *testing.B) {
	s := big()
	for i := 0; i < b.N; i++ {
		for _, f := range status.Formats {
			if _, err := s.Render(f); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkBaseline is ci/bench status's baseline: one encoding/json pass
// over the same status value.
func BenchmarkBaseline(b *testing.B) {
	s := big()
	for i := 0; i < b.N; i++ {
		if _, err := json.Marshal(s); err != nil {
			b.Fatal(err)
		}
	}
}
