package sparse

import (
	"context"
	"fmt"
	"io"
	"strings"

	"google.golang.org/protobuf/proto"

	buildpb "github.com/strideci/monorepo/third_party/bazel_proto/build"
	"github.com/strideci/monorepo/tools/stride/internal/bazel"
)

// KeepGoingQuerier is the Querier stride uses: bazel.ProtoQueryFlags plus
// --keep_going, so that a package that does not load (a broken BUILD file
// elsewhere in the monorepo) leaves the rest of the map intact. Bazel's
// exit code 3 (partial result) is accepted with a warning on Warn.
type KeepGoingQuerier struct {
	Bazel *bazel.Bazel
	Warn  io.Writer
}

var _ Querier = (*KeepGoingQuerier)(nil)

// QueryProto runs the query and decodes its output.
func (q *KeepGoingQuerier) QueryProto(ctx context.Context, expr string, extra ...string) (*buildpb.QueryResult, error) {
	args := append([]string{"query"}, bazel.ProtoQueryFlags...)
	args = append(args, "--keep_going")
	args = append(args, extra...)
	args = append(args, "--", expr)
	out, err := q.Bazel.Run(ctx, bazel.Options{}, args...)
	if err != nil {
		be, ok := err.(*bazel.Error)
		if !ok || be.ExitCode != 3 || len(out) == 0 {
			return nil, err
		}
		if q.Warn != nil {
			var errs []string
			for _, l := range strings.Split(be.Stderr, "\n") {
				if strings.HasPrefix(l, "ERROR: ") {
					errs = append(errs, l)
				}
			}
			if len(errs) > 5 {
				errs = append(errs[:5], fmt.Sprintf("... and %d more", len(errs)-5))
			}
			fmt.Fprintf(q.Warn, "sparse: warning: bazel query %s is partial (some packages do not load); their dependencies are missing from the map:\n  %s\n", expr, strings.Join(errs, "\n  "))
		}
	}
	res := &buildpb.QueryResult{}
	if err := proto.Unmarshal(out, res); err != nil {
		return nil, fmt.Errorf("decode output of bazel query %q in %s (%d bytes): %w", expr, q.Bazel.Dir, len(out), err)
	}
	return res, nil
}
