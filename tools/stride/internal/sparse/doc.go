// Package sparse computes and applies a team's sparse checkout of the
// monorepo: the directories a team needs to run `bazel build` and `bazel
// test` on its own targets, derived from the OWNERS teams and the Bazel
// dependency graph, applied with git's cone-mode sparse-checkout.
//
// The dependency graph comes from a package map (Map): for each Bazel
// package of the main repository, the packages its targets depend on (also
// through external repositories, so that toolchain-like edges such as
// rules_go's nogo are seen) and the packages of the .bzl files its BUILD
// file loads, plus the directories every build needs and each team's owned
// directories. A map needs the full tree and Bazel to compute (BuildMap),
// so it is stored in git itself as a blob under refs/stride/pkgmap/<commit>
// (StoreMap): a sparse, partial clone fetches those refs and plans from
// them without the full tree. docs/sparse.md explains the choice.
//
// Git's sparse-checkout and partial clone are not in go-git, so this
// package runs the git binary (Git); it needs git 2.27 or newer.
package sparse
