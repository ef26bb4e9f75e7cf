package affected

import (
	"regexp"
	"strings"

	buildpb "github.com/strideci/monorepo/third_party/bazel_proto/build"
)

// snapshotStream builds a snapshot while a query streams its targets
// (bazel.QueryStream), so that digesting overlaps Bazel's output instead
// of following it. Targets of the main repository are digested as they
// arrive: their digests need only the files. Repository definitions, and
// the targets of external repositories whose digests include them, wait
// for the end of the stream.
//
// Telling main-repository labels apart needs the workspace's name
// ("@name//pkg" is the main repository), which the query states in a
// //external rule that may come last; the stream assumes the name that
// WORKSPACE declares and, should the query say otherwise, finish digests
// everything again from the whole result.
type snapshotStream struct {
	b        *builder
	guess    string
	all      []*buildpb.Target
	deferred []*buildpb.Target
	err      error
}

func newSnapshotStream(files *fileSet, commit, root, checkDisk string, ext extSource) *snapshotStream {
	b := newBuilder(files, commit, root, checkDisk, 16384)
	b.ext = ext
	s := &snapshotStream{b: b, guess: declaredWorkspace(files)}
	b.snap.Workspace = s.guess
	return s
}

// add takes the next target of the stream.
func (s *snapshotStream) add(t *buildpb.Target) {
	s.all = append(s.all, t)
	if s.err != nil {
		return
	}
	name := s.b.canonical(targetName(t))
	if !strings.HasPrefix(name, "//") || strings.HasPrefix(name, "//external:") {
		s.deferred = append(s.deferred, t)
		return
	}
	s.err = s.b.addTarget(t)
}

// finish digests what waited for the end of the stream and returns the
// whole query result, the snapshot and the untracked files it saw (as
// buildSnapshot does).
func (s *snapshotStream) finish() (*buildpb.QueryResult, *Snapshot, []string, error) {
	qr := &buildpb.QueryResult{Target: s.all}
	if s.err != nil {
		return qr, nil, nil, s.err
	}
	b := s.b
	b.addRepos(s.deferred)
	if b.snap.Workspace != s.guess {
		snap, untracked, err := buildSnapshot(qr, b.files, b.snap.Commit, b.root, b.checkDisk, b.ext)
		return qr, snap, untracked, err
	}
	b.prepareExternal(s.deferred)
	for _, t := range s.deferred {
		if err := b.addTarget(t); err != nil {
			return qr, nil, nil, err
		}
	}
	b.snap.Globals = computeGlobals(b.files, b.snap)
	return qr, b.snap, b.untracked, nil
}

// targetName is the label of any kind of target.
func targetName(t *buildpb.Target) string {
	switch t.GetType() {
	case buildpb.Target_RULE:
		return t.GetRule().GetName()
	case buildpb.Target_SOURCE_FILE:
		return t.GetSourceFile().GetName()
	case buildpb.Target_GENERATED_FILE:
		return t.GetGeneratedFile().GetName()
	case buildpb.Target_PACKAGE_GROUP:
		return t.GetPackageGroup().GetName()
	case buildpb.Target_ENVIRONMENT_GROUP:
		return t.GetEnvironmentGroup().GetName()
	}
	return ""
}

var workspaceCall = regexp.MustCompile(`(?m)^workspace\(\s*name\s*=\s*["']([^"']+)["']`)

// declaredWorkspace returns the name WORKSPACE gives the workspace, or "".
// It is a guess checked against the query (see snapshotStream).
func declaredWorkspace(files *fileSet) string {
	for _, p := range []string{"WORKSPACE.bazel", "WORKSPACE"} {
		if b, ok := files.read(p); ok {
			if m := workspaceCall.FindSubmatch(b); m != nil {
				return string(m[1])
			}
			return ""
		}
	}
	return ""
}
