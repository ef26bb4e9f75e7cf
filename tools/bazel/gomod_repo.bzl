"""go_module_repository: a repository made from a Go module fetched through the Go module proxy.

This is the offline bootstrap of the monorepo: rules_go, Gazelle and the Go
SDK are Go modules, so the host's `go mod download -json MODULE@VERSION`
fetches them from the only registry these machines reach. The download's
`Sum` (the go.sum h1: hash) is checked against the pinned `sum`, the module
directory is copied in, then `post_cmds` run and `files` are written.
"""

_ENV_PASSTHROUGH = [
    "HOME",
    "GOPATH",
    "GOMODCACHE",
    "GOPROXY",
    "GONOSUMDB",
    "GOSUMDB",
    "GOPRIVATE",
    "GOINSECURE",
    "GOCACHE",
    "GOFLAGS",
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "NO_PROXY",
]

def _impl(rctx):
    mv = rctx.attr.path + "@" + rctx.attr.version
    go = rctx.which("go")
    if not go:
        fail(("go_module_repository(%s): no `go` on PATH. Install Go (https://go.dev/doc/install, " +
              "or Debian's golang-go) and make sure `go` is on PATH; ci/test and ci/stride " +
              "check this for you.") % rctx.name)
    env = {"GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod"}
    for k in _ENV_PASSTHROUGH:
        v = rctx.os.environ.get(k)
        if v and k != "GOFLAGS":
            env[k] = v
    rctx.report_progress("go mod download " + mv)
    res = rctx.execute([go, "mod", "download", "-json", mv], environment = env, timeout = 1800)
    if res.return_code != 0:
        fail(("go_module_repository(%s): `go mod download %s` failed (is the Go module proxy " +
              "reachable? GOPROXY=%s):\n%s%s") % (
            rctx.name,
            mv,
            env.get("GOPROXY", "<default>"),
            res.stdout,
            res.stderr,
        ))
    info = json.decode(res.stdout)
    if info.get("Error"):
        fail("go_module_repository(%s): %s: %s" % (rctx.name, mv, info["Error"]))
    if rctx.attr.sum and info["Sum"] != rctx.attr.sum:
        fail("go_module_repository(%s): checksum mismatch for module %s: expected %s, got %s" % (
            rctx.name,
            mv,
            rctx.attr.sum,
            info["Sum"],
        ))
    res = rctx.execute(["cp", "-R", info["Dir"] + "/.", "."])
    if res.return_code != 0:
        fail("go_module_repository(%s): copy %s: %s" % (rctx.name, info["Dir"], res.stderr))
    rctx.execute(["chmod", "-R", "u+w", "."])
    for cmd in rctx.attr.post_cmds:
        rctx.report_progress("%s: %s" % (mv, cmd))
        res = rctx.execute(["sh", "-c", cmd], environment = env, timeout = 1800)
        if res.return_code != 0:
            fail("go_module_repository(%s): post command %r failed:\n%s%s" % (rctx.name, cmd, res.stdout, res.stderr))
    for f, content in rctx.attr.files.items():
        rctx.file(f, content)

go_module_repository = repository_rule(
    implementation = _impl,
    doc = "Fetches a Go module with the host `go mod download` and checks its go.sum hash.",
    attrs = {
        "path": attr.string(mandatory = True, doc = "Module path."),
        "version": attr.string(mandatory = True, doc = "Module version."),
        "sum": attr.string(mandatory = True, doc = "Expected h1: sum, as in go.sum."),
        "post_cmds": attr.string_list(doc = "Shell commands run in the repository after the copy."),
        "files": attr.string_dict(doc = "Files to write (path -> content) after post_cmds."),
    },
    environ = ["GOMODCACHE", "GOPROXY", "GOPATH", "PATH", "GOFLAGS", "GOSUMDB"],
)
