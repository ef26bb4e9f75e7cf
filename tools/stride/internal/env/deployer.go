package env

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/promote"
)

// Deployer is the promote.Deployer of stride's environments: an
// environment that names a deploy command (environment(deploy = ...)) is
// deployed by running it; one that is up here is deployed by Deploy; one
// that is neither is not running (promote.ErrNotRunning: the APT switch
// is the deployment).
type Deployer struct {
	// Root is the directory of the local environments (DefaultRoot).
	Root   string
	Config *promote.Config
	// RepoDir is where deploy commands are found and run.
	RepoDir string
	APT     APTSource
	// Watch is the watch window after a local deploy.
	Watch time.Duration
	// ReadyTimeout bounds the wait for a new instance's /readyz.
	ReadyTimeout time.Duration
	By           string
	// Log gets the deploy's progress and a command's output.
	Log io.Writer
	// Hook is DeployOptions.Hook (tests).
	Hook func(point string)
}

var _ promote.Deployer = (*Deployer)(nil)

// Deploy implements promote.Deployer.
func (d *Deployer) Deploy(ctx context.Context, dep promote.Deployment) error {
	_, err := d.DeployDetail(ctx, dep)
	return err
}

var _ promote.DetailDeployer = (*Deployer)(nil)

// DeployDetail implements promote.DetailDeployer: it deploys and says
// what the deploy did, for the ledger.
func (d *Deployer) DeployDetail(ctx context.Context, dep promote.Deployment) (string, error) {
	if e, ok := d.Config.Env(dep.Env); ok && e.Deploy != "" {
		if err := RunCommand(ctx, d.RepoDir, e.Deploy, dep, d.Log); err != nil {
			return "", err
		}
		return e.Deploy + " exited 0", nil
	}
	l, err := Open(d.Root, dep.Env)
	if err != nil {
		return "", err
	}
	if _, up := Up(l); !up {
		return "", fmt.Errorf("%s is not up on this machine (stride env up %s): the APT switch is the deployment: %w", dep.Env, dep.Env, promote.ErrNotRunning)
	}
	rec, err := Deploy(ctx, DeployOptions{Layout: l, Build: dep.Build, From: dep.From, Change: dep.Change, Packages: dep.Packages,
		Instances: dep.Instances, APT: d.APT, Watch: d.Watch, ReadyTimeout: d.ReadyTimeout, By: d.By, Log: d.Log, Hook: d.Hook})
	var f *Failure
	if errors.As(err, &f) {
		return "", &promote.DeployFailed{Reason: f.Reason}
	}
	if err != nil {
		return "", err
	}
	detail := rec.Summary()
	d.logf("%s: %s", dep.Env, detail)
	return detail, nil
}

func (d *Deployer) logf(format string, a ...interface{}) {
	if d.Log != nil {
		fmt.Fprintf(d.Log, format+"\n", a...)
	}
}

// CommandEnv is the environment a deploy command gets, beside stride's
// own: STRIDE_ENV, STRIDE_BUILD, STRIDE_FROM (the build the environment
// ran, empty for its first), STRIDE_CHANGE (the ledger event being
// deployed), STRIDE_INSTANCES, STRIDE_PACKAGES ("name=version ..."
// sorted by name) and STRIDE_VERSION_<NAME> for each package (NAME in
// upper case, '-' and '.' as '_').
func CommandEnv(dep promote.Deployment) []string {
	env := []string{"STRIDE_ENV=" + dep.Env, "STRIDE_BUILD=" + dep.Build, "STRIDE_FROM=" + dep.From,
		"STRIDE_CHANGE=" + dep.Change, "STRIDE_INSTANCES=" + strconv.Itoa(dep.Instances)}
	pkgs := append(dep.Packages[:0:0], dep.Packages...)
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].Name < pkgs[j].Name })
	var list []string
	for _, p := range pkgs {
		list = append(list, p.Name+"="+p.Version)
		env = append(env, "STRIDE_VERSION_"+strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(p.Name))+"="+p.Version)
	}
	return append(env, "STRIDE_PACKAGES="+strings.Join(list, " "))
}

// RunCommand runs an environment's deploy command (a path relative to
// repoDir, run in repoDir with CommandEnv added). Its exit status
// decides: 0 deployed; anything else is a failed deploy
// (promote.DeployFailed, with the last lines of its output), which the
// robot rolls back by running the command again with the previous build.
func RunCommand(ctx context.Context, repoDir, command string, dep promote.Deployment, log io.Writer) error {
	var tail bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(repoDir, filepath.FromSlash(command)))
	cmd.Dir = repoDir
	cmd.Env = append(os.Environ(), CommandEnv(dep)...)
	var w io.Writer = &tail
	if log != nil {
		w = io.MultiWriter(&tail, log)
	}
	cmd.Stdout, cmd.Stderr = w, w
	err := cmd.Run()
	if err == nil {
		return nil
	}
	lines := strings.Split(strings.TrimSpace(tail.String()), "\n")
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return &promote.DeployFailed{Reason: fmt.Sprintf("%s exited with %v: %s", command, ee, strings.Join(lines, " / "))}
	}
	return fmt.Errorf("run the deploy command %s of %s: %w", command, dep.Env, err)
}
