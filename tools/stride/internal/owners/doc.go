// Package owners reads OWNERS files and decides who may approve a change.
//
// An OWNERS file in a directory lists, one entry a line, who owns the
// directory and everything below it: emails, "*" (anyone), teams "@name"
// defined in the root OWNERS_ALIASES file, exclusions "!email" and
// "!@team", "set noparent", "require N", "require all-teams",
// "per-file GLOB=ENTRY" and includes "file://path/to/OWNERS".
// docs/owners.md is the user's reference; this package implements it:
//
//   - Parse and ParseAliases parse one file and report every bad line with
//     file:line:col (a bad line never disables the rest of a file);
//   - Load (a file system: a work tree, or a commit through gitrepo's FS)
//     and LoadAt (a commit) build a Tree: includes and teams expanded;
//   - Tree.Resolve and Tree.OwnersOf say who owns a path and which line
//     grants it; Tree.Teams and Tree.DirsOwnedBy give teams and the
//     directories they own (sparse checkouts are computed from them);
//   - Check decides, per changed file, whether its owners approved, and
//     CheckRepo does it for a commit range of a repository; Suggest
//     proposes the fewest closest owners to ask; Lint reports every problem
//     of a tree at once.
//
// Results are JSON-able with a "schema" field (stride.owners-check/v1,
// stride.owners-suggest/v1, stride.owners-lint/v1, stride.owners-who/v1,
// stride.owners-teams/v1) and render as text or Markdown.
package owners
