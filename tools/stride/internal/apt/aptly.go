// Package apt drives aptly (Debian's aptly 1.5) for stride: the APT
// repository that every build's .deb packages go to, one immutable snapshot
// per build, and one published distribution per environment (dev, uat,
// preprod, prod). stride never writes APT indexes itself.
//
// The model: a local repository ("stride") receives each build's packages;
// a snapshot "build-<id>" holds exactly that build's packages; publishing a
// distribution points it at a snapshot, and `aptly publish switch` moves it
// atomically (nothing is re-uploaded). aptly runs with its own config file
// under its root directory, and signs with a GnuPG key that Keyring.Ensure
// generates on first use without prompts.
//
// The package also reads and rewrites .deb files (deb.go): control fields
// through pault.ag/go/debian, versions compared the Debian way.
package apt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/strideci/monorepo/tools/stride/internal/atomicfile"
)

// Defaults.
const (
	DefaultRepo      = "stride"
	DefaultComponent = "main"
	SnapshotPrefix   = "build-"
	// KeyFile and KeyFileArmored are the public key's names in the
	// published tree, for clients' signed-by.
	KeyFile        = "stride-archive-keyring.gpg"
	KeyFileArmored = "stride-archive-keyring.asc"
)

// Aptly runs aptly on one root directory.
type Aptly struct {
	// Root is aptly's rootDir; its config file is Root/aptly.conf and the
	// published tree Root/public.
	Root string
	// Keyring signs the published Release files.
	Keyring *Keyring
	// KeyName and KeyEmail name a generated key ("stride archive").
	KeyName, KeyEmail string
	// Binary is aptly; "aptly" from PATH when empty.
	Binary string
	// Repo is the local repository's name (DefaultRepo when empty).
	Repo string
	// Architectures published (default amd64).
	Architectures []string

	fpr        string
	mu         sync.Mutex
	configured bool // the config file says Root (writeConfig)
}

// ValidateDistribution checks an environment's name, which becomes a
// directory of the published tree (dists/NAME): 1 to 64 letters, digits,
// '.', '_' and '-', starting with a letter or digit.
func ValidateDistribution(name string) error {
	ok := name != "" && len(name) <= 64
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || i > 0 && (c == '.' || c == '_' || c == '-')
	}
	if !ok {
		return fmt.Errorf("distribution %q: want 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	return nil
}

// SnapshotName is the snapshot of a build.
func SnapshotName(build string) string { return SnapshotPrefix + build }

// BuildOfSnapshot is the build of a snapshot name, or "".
func BuildOfSnapshot(name string) string {
	if strings.HasPrefix(name, SnapshotPrefix) {
		return strings.TrimPrefix(name, SnapshotPrefix)
	}
	return ""
}

// ConfigPath is aptly's config file.
func (a *Aptly) ConfigPath() string { return filepath.Join(a.Root, "aptly.conf") }

// PublicDir is the published tree, to serve over HTTP.
func (a *Aptly) PublicDir() string { return filepath.Join(a.Root, "public") }

func (a *Aptly) repo() string {
	if a.Repo == "" {
		return DefaultRepo
	}
	return a.Repo
}

func (a *Aptly) archs() []string {
	if len(a.Architectures) == 0 {
		return []string{"amd64"}
	}
	return a.Architectures
}

// Available reports whether aptly and gpg are on PATH.
func Available() error {
	for _, bin := range []string{"aptly", "gpg", "dpkg-deb"} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("%s is not installed (ci/lib.sh installs Debian's aptly, gnupg and dpkg): %w", bin, err)
		}
	}
	return nil
}

type aptlyConfig struct {
	RootDir                  string   `json:"rootDir"`
	GPGProvider              string   `json:"gpgProvider"`
	Architectures            []string `json:"architectures"`
	DependencyFollowSuggests bool     `json:"dependencyFollowSuggests"`
}

// writeConfig writes aptly's config with this Aptly's Root, unless the
// file already says exactly that. Every command goes through it first, so
// a store that was copied or moved drives its own aptly, never the one at
// the place it was copied from (aptly needs an absolute rootDir).
func (a *Aptly) writeConfig() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.configured {
		return nil
	}
	root, err := filepath.Abs(a.Root)
	if err != nil {
		return fmt.Errorf("aptly root: %w", err)
	}
	for _, d := range []string{root, filepath.Join(root, "public")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("aptly root: %w", err)
		}
		if err := os.Chmod(d, 0o755); err != nil {
			return fmt.Errorf("aptly root: %w", err)
		}
	}
	cfg, err := json.MarshalIndent(aptlyConfig{RootDir: root, GPGProvider: "gpg", Architectures: a.archs()}, "", "  ")
	if err != nil {
		return err
	}
	cfg = append(cfg, '\n')
	if old, err := os.ReadFile(a.ConfigPath()); err != nil || !bytes.Equal(old, cfg) {
		if err := atomicfile.Write(a.ConfigPath(), cfg); err != nil {
			return err
		}
	}
	a.configured = true
	return nil
}

// Init writes aptly's config, makes sure the signing key exists (and its
// public half is in the published tree), and creates the local repository.
// It is idempotent.
func (a *Aptly) Init(ctx context.Context) error {
	if err := a.writeConfig(); err != nil {
		return err
	}
	name, email := a.KeyName, a.KeyEmail
	if name == "" {
		name = "stride archive signing key"
	}
	if email == "" {
		email = "stride-archive@localhost.invalid"
	}
	fpr, _, err := a.Keyring.Ensure(ctx, name, email)
	if err != nil {
		return err
	}
	a.fpr = fpr
	if err := a.Keyring.ExportPublic(ctx, fpr, filepath.Join(a.PublicDir(), KeyFile), false); err != nil {
		return err
	}
	if err := a.Keyring.ExportPublic(ctx, fpr, filepath.Join(a.PublicDir(), KeyFileArmored), true); err != nil {
		return err
	}
	out, err := a.run(ctx, "repo", "list", "-raw")
	if err != nil {
		return err
	}
	for _, l := range lines(out) {
		if l == a.repo() {
			return nil
		}
	}
	_, err = a.run(ctx, "repo", "create", "-comment=packages of every stride build", "-component="+DefaultComponent, a.repo())
	return err
}

// Fingerprint is the signing key's fingerprint (after Init).
func (a *Aptly) Fingerprint() string { return a.fpr }

// Error is a failed aptly command, with its output.
type Error struct {
	Args   []string
	Err    error
	Output string
}

func (e *Error) Error() string {
	return fmt.Sprintf("aptly %s: %v:\n%s", strings.Join(e.Args, " "), e.Err, strings.TrimSpace(e.Output))
}

func (e *Error) Unwrap() error { return e.Err }

// umaskShell runs a program with umask 022, so that aptly's tree (and
// what gpg writes for it) is readable by artifactd whatever the caller's
// umask.
const umaskShell = `umask 022 && exec "$0" "$@"`

func (a *Aptly) run(ctx context.Context, args ...string) ([]byte, error) {
	if err := a.writeConfig(); err != nil {
		return nil, err
	}
	bin := a.Binary
	if bin == "" {
		bin = "aptly"
	}
	full := append([]string{"-c", umaskShell, bin, "-config=" + a.ConfigPath()}, args...)
	cmd := exec.CommandContext(ctx, "/bin/sh", full...)
	env := os.Environ()
	if a.Keyring != nil {
		env = append(env, "GNUPGHOME="+a.Keyring.Home)
	}
	cmd.Env = env
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return out.Bytes(), &Error{Args: args, Err: err, Output: stderr.String() + out.String()}
	}
	return out.Bytes(), nil
}

func lines(b []byte) []string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// Add adds .deb files to the local repository. Adding a package that is
// already there with the same content is a no-op; the same name, version
// and architecture with other content is an error (aptly's conflict).
func (a *Aptly) Add(ctx context.Context, paths ...string) error {
	if len(paths) == 0 {
		return nil
	}
	args := append([]string{"repo", "add", a.repo()}, paths...)
	out, err := a.run(ctx, args...)
	if err != nil {
		return err
	}
	// aptly exits 0 on some failures and says so.
	if bytes.Contains(out, []byte("[!]")) {
		return &Error{Args: args, Err: errors.New("some files were not added"), Output: string(out)}
	}
	return nil
}

// Snapshots lists the snapshots.
func (a *Aptly) Snapshots(ctx context.Context) ([]string, error) {
	out, err := a.run(ctx, "snapshot", "list", "-raw")
	if err != nil {
		return nil, err
	}
	l := lines(out)
	sort.Strings(l)
	return l, nil
}

// HasSnapshot reports whether a snapshot exists.
func (a *Aptly) HasSnapshot(ctx context.Context, name string) (bool, error) {
	snaps, err := a.Snapshots(ctx)
	if err != nil {
		return false, err
	}
	for _, s := range snaps {
		if s == name {
			return true, nil
		}
	}
	return false, nil
}

// PackageRef names one package version.
type PackageRef struct {
	Name, Version, Architecture string
}

// CreateSnapshot makes snapshot name hold exactly pkgs (which must be in
// the local repository): a snapshot of the repository, filtered. An
// existing snapshot of that name is left alone.
func (a *Aptly) CreateSnapshot(ctx context.Context, name string, pkgs []PackageRef) error {
	if ok, err := a.HasSnapshot(ctx, name); err != nil || ok {
		return err
	}
	if len(pkgs) == 0 {
		_, err := a.run(ctx, "snapshot", "create", name, "empty")
		return err
	}
	tmp := "tmp-" + name
	if ok, err := a.HasSnapshot(ctx, tmp); err != nil {
		return err
	} else if ok { // left by a killed run
		if _, err := a.run(ctx, "snapshot", "drop", "-force", tmp); err != nil {
			return err
		}
	}
	if _, err := a.run(ctx, "snapshot", "create", tmp, "from", "repo", a.repo()); err != nil {
		return err
	}
	var q []string
	for _, p := range pkgs {
		q = append(q, fmt.Sprintf("%s (= %s) {%s}", p.Name, p.Version, p.Architecture))
	}
	sort.Strings(q)
	if _, err := a.run(ctx, "snapshot", "filter", "-with-deps=false", tmp, name, strings.Join(q, " | ")); err != nil {
		return err
	}
	if _, err := a.run(ctx, "snapshot", "drop", "-force", tmp); err != nil {
		return err
	}
	return nil
}

// SnapshotPackages lists a snapshot's packages as "name_version_arch".
func (a *Aptly) SnapshotPackages(ctx context.Context, name string) ([]string, error) {
	out, err := a.run(ctx, "snapshot", "search", "-format={{.Package}}_{{.Version}}_{{.Architecture}}", name, "Name (~ .*)")
	if err != nil {
		var ae *Error
		if errors.As(err, &ae) && strings.Contains(ae.Output, "no results") {
			return nil, nil
		}
		return nil, err
	}
	pkgs := lines(out)
	sort.Strings(pkgs)
	return pkgs, nil
}

// DropSnapshot removes a snapshot (it must not be published).
func (a *Aptly) DropSnapshot(ctx context.Context, name string) error {
	_, err := a.run(ctx, "snapshot", "drop", name)
	return err
}

type publishedJSON struct {
	Distribution string
	Prefix       string
	SourceKind   string
	Sources      []struct{ Component, Name string }
}

// Published maps each published distribution (environment) to the
// snapshot it serves.
func (a *Aptly) Published(ctx context.Context) (map[string]string, error) {
	out, err := a.run(ctx, "publish", "list", "-json")
	if err != nil {
		return nil, err
	}
	var list []publishedJSON
	if len(bytes.TrimSpace(out)) > 0 {
		if err := json.Unmarshal(out, &list); err != nil {
			return nil, fmt.Errorf("aptly publish list -json: %w", err)
		}
	}
	m := map[string]string{}
	for _, p := range list {
		if p.Prefix != "." || len(p.Sources) == 0 {
			continue
		}
		m[p.Distribution] = p.Sources[0].Name
	}
	return m, nil
}

// Publish points distribution dist at snapshot: `aptly publish snapshot`
// the first time, `aptly publish switch` (atomic) afterwards. Publishing
// the snapshot a distribution already serves is a no-op.
func (a *Aptly) Publish(ctx context.Context, dist, snapshot string) error {
	if a.fpr == "" {
		return errors.New("aptly: Init was not called")
	}
	pub, err := a.Published(ctx)
	if err != nil {
		return err
	}
	cur, ok := pub[dist]
	if ok && cur == snapshot {
		return nil
	}
	common := []string{"-batch", "-gpg-key=" + a.fpr}
	if ok {
		_, err = a.run(ctx, append(append([]string{"publish", "switch"}, common...), dist, snapshot)...)
		return err
	}
	args := append([]string{"publish", "snapshot"}, common...)
	args = append(args, "-distribution="+dist, "-component="+DefaultComponent,
		"-architectures="+strings.Join(a.archs(), ","), "-origin=stride", "-label=stride", snapshot)
	_, err = a.run(ctx, args...)
	return err
}

// RemovePackages removes package versions from the local repository.
func (a *Aptly) RemovePackages(ctx context.Context, pkgs []PackageRef) error {
	if len(pkgs) == 0 {
		return nil
	}
	var q []string
	for _, p := range pkgs {
		q = append(q, fmt.Sprintf("%s (= %s) {%s}", p.Name, p.Version, p.Architecture))
	}
	sort.Strings(q)
	_, err := a.run(ctx, "repo", "remove", a.repo(), strings.Join(q, " | "))
	return err
}

// RepoPackages lists the local repository's packages.
func (a *Aptly) RepoPackages(ctx context.Context) ([]PackageRef, error) {
	out, err := a.run(ctx, "repo", "search", "-format={{.Package}} {{.Version}} {{.Architecture}}", a.repo())
	if err != nil {
		var ae *Error
		if errors.As(err, &ae) && strings.Contains(ae.Output, "no results") {
			return nil, nil
		}
		return nil, err
	}
	var refs []PackageRef
	for _, l := range lines(out) {
		f := strings.Fields(l)
		if len(f) == 3 {
			refs = append(refs, PackageRef{f[0], f[1], f[2]})
		}
	}
	return refs, nil
}

// Cleanup removes package files no repository or snapshot references.
func (a *Aptly) Cleanup(ctx context.Context) error {
	_, err := a.run(ctx, "db", "cleanup")
	return err
}
