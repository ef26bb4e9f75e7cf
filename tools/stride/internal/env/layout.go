// Package env runs local environments: each environment's services as
// processes on 127.0.0.1 behind an HAProxy stride configures (package
// haproxy), kept running by a supervisor (`stride env up`), deployed one
// instance at a time from the environment's signed APT distribution, and
// watched after each deploy. docs/environments.md describes it.
//
// Everything an environment has lives in its directory (Layout): the
// supervisor and the deployer share nothing else. The deployer writes what
// should run (desired.json) and the progress of a deploy (deploy.json);
// the supervisor makes the processes match desired.json and writes what
// runs (status.json). ReadStatus reads them for `stride env status` and
// the release board.
package env

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/strideci/monorepo/tools/stride/internal/atomicfile"
)

// RootEnv is the environment variable that names the directory of every
// local environment (default: DefaultRoot).
const RootEnv = "STRIDE_ENV_ROOT"

// DefaultRoot is where the environments of the repository at repoDir live:
// $STRIDE_ENV_ROOT, else $XDG_DATA_HOME/stride/envs/<repo>-<hash> (XDG
// default ~/.local/share), where <repo> is the repository directory's base
// name and <hash> the first 8 hex digits of the SHA-256 of its absolute
// path, so two clones never share processes or ports.
func DefaultRoot(repoDir string) (string, error) {
	if r := os.Getenv(RootEnv); r != "" {
		return filepath.Abs(r)
	}
	abs, err := filepath.Abs(repoDir)
	if err != nil {
		return "", err
	}
	data := os.Getenv("XDG_DATA_HOME")
	if data == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("where local environments live: set %s or XDG_DATA_HOME: %w", RootEnv, err)
		}
		data = filepath.Join(home, ".local", "share")
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(data, "stride", "envs", filepath.Base(abs)+"-"+hex.EncodeToString(sum[:4])), nil
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// Layout is one environment's directory and the files in it.
type Layout struct {
	Name string
	Dir  string
}

// Open returns the layout of environment name under root.
func Open(root, name string) (*Layout, error) {
	if !nameRE.MatchString(name) {
		return nil, fmt.Errorf("environment name %q: want lower-case letters, digits and '-'", name)
	}
	return &Layout{Name: name, Dir: filepath.Join(root, name)}, nil
}

func (l *Layout) path(name string) string { return filepath.Join(l.Dir, name) }

// The files of an environment.
func (l *Layout) Spec() string          { return l.path("env.json") }
func (l *Layout) Desired() string       { return l.path("desired.json") }
func (l *Layout) Status() string        { return l.path("status.json") }
func (l *Layout) Record() string        { return l.path("deploy.json") }
func (l *Layout) HAProxyConfig() string { return l.path("haproxy.cfg") }
func (l *Layout) HAProxyPID() string    { return l.path("haproxy.pid") }
func (l *Layout) HAProxySocket() string { return l.path("haproxy.sock") }
func (l *Layout) SupervisorPID() string { return l.path("supervisor.pid") }
func (l *Layout) SupervisorLog() string { return l.path("supervisor.log") }
func (l *Layout) DeployLock() string    { return l.path("deploy.lock") }

// Versions is where packages are unpacked, one directory per package
// version (versions/NAME_VERSION), so old and new coexist.
func (l *Layout) Versions() string { return l.path("versions") }

// APTDir holds apt-get's lists and cache for this environment.
func (l *Layout) APTDir() string { return l.path("apt") }

// InstanceDir is an instance's working directory (its log is there).
func (l *Layout) InstanceDir(service string, slot int) string {
	return l.path(filepath.Join("instances", fmt.Sprintf("%s-%d", service, slot)))
}

// ServiceEnvFile is an optional file of KEY=VALUE lines added to the
// environment of the service's instances (e.g. ARTIFACTD_ROOT=/srv/uat).
func (l *Layout) ServiceEnvFile(service string) string { return l.path(service + ".env") }

// readJSON reads path into v; a missing file leaves v alone and returns
// false.
func readJSON(path string, v interface{}) (bool, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	return true, nil
}

// writeJSON writes v to path atomically.
func writeJSON(path string, v interface{}) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(path, append(b, '\n'))
}
