// Package perf holds the benchmarks of artifactd's hot path, serving a 1 MiB
// file with its ETag, kept in their own package so that the Bazel go_test
// target that runs them can be tagged "perf" apart from the unit tests.
//
//	go test ./services/artifactd/internal/server/perf -run '^$' -bench . -benchmem
//
// Without -bench, `go test` runs only TestSmoke, which serves each benchmark's
// request once and checks the response, so the benchmarks cannot rot.
package perf
