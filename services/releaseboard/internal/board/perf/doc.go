// Package perf holds the benchmarks of the releaseboard's hot path, rendering
// the page (and the /api/info JSON), kept in their own package so that the
// Bazel go_test target that runs them can be tagged "perf" apart from the
// unit tests.
//
//	go test ./services/releaseboard/internal/board/perf -run '^$' -bench . -benchmem
//
// Without -bench, `go test` runs only TestSmoke, which serves each
// benchmark's request once and checks the response.
package perf
