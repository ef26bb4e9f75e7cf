package env

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/strideci/monorepo/tools/stride/internal/apt"
	"github.com/strideci/monorepo/tools/stride/internal/store"
)

// APTSource is where an environment's packages come from: aptly's
// published tree (read with a file: URI) signed with the key in KeyFile.
// Each environment installs from its own distribution, named as the
// environment.
type APTSource struct {
	PublicDir string `json:"public_dir"`
	KeyFile   string `json:"key_file"`
}

// Unpacked is a package version unpacked into its own root.
type Unpacked struct {
	Package store.Package
	Root    string
	// Command starts the service (its systemd unit's ExecStart, paths
	// moved under Root); empty if the package has no unit: not a service.
	Command []string
}

// install downloads the packages from the environment's distribution with
// apt-get (signature checked with signed-by) and unpacks each version into
// versions/NAME_VERSION, once: a version unpacked already is reused.
func install(ctx context.Context, l *Layout, src APTSource, pkgs []store.Package) ([]Unpacked, error) {
	var out []Unpacked
	var missing []store.Package
	for _, p := range pkgs {
		if _, err := os.Stat(versionRoot(l, p)); err != nil {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		if err := download(ctx, l, src, missing); err != nil {
			return nil, err
		}
	}
	for _, p := range pkgs {
		root := versionRoot(l, p)
		cmd, err := unitCommand(root, p.Name)
		if err != nil {
			return nil, err
		}
		out = append(out, Unpacked{Package: p, Root: root, Command: cmd})
	}
	return out, nil
}

func versionRoot(l *Layout, p store.Package) string {
	return filepath.Join(l.Versions(), p.Name+"_"+strings.NewReplacer(":", "%3a", "/", "_").Replace(p.Version))
}

// download runs apt-get update and apt-get download NAME=VERSION with its
// state, cache and sources under the environment's apt directory, then
// unpacks each .deb (dpkg-deb -x) into a temporary directory renamed into
// place.
func download(ctx context.Context, l *Layout, src APTSource, pkgs []store.Package) error {
	dir := l.APTDir()
	line := fmt.Sprintf("deb [signed-by=%s] file:%s %s main\n", src.KeyFile, src.PublicDir, l.Name)
	opts, err := apt.ClientDir(dir, line)
	if err != nil {
		return err
	}
	opts = append(opts, "-o", "Debug::NoLocking=1", "-q")
	debs := filepath.Join(dir, "debs")
	if err := os.MkdirAll(debs, 0o755); err != nil {
		return err
	}
	aptGet := func(args ...string) error {
		cmd := exec.CommandContext(ctx, "apt-get", append(append([]string{}, opts...), args...)...)
		cmd.Dir = debs
		out, err := cmd.CombinedOutput()
		if err == nil && (bytes.Contains(out, []byte("\nW: ")) || bytes.HasPrefix(out, []byte("W: "))) {
			err = fmt.Errorf("warnings")
		}
		if err != nil {
			return fmt.Errorf("apt-get %s (distribution %s of %s): %v: %s", args[0], l.Name, src.PublicDir, err, bytes.TrimSpace(out))
		}
		return nil
	}
	if err := aptGet("update"); err != nil {
		return err
	}
	args := []string{"download"}
	for _, p := range pkgs {
		args = append(args, p.Name+"="+p.Version)
	}
	if err := aptGet(args...); err != nil {
		return err
	}
	for _, p := range pkgs {
		matches, _ := filepath.Glob(filepath.Join(debs, p.Name+"_*.deb"))
		var deb string
		for _, m := range matches {
			if out, err := exec.CommandContext(ctx, "dpkg-deb", "-f", m, "Version").Output(); err == nil && strings.TrimSpace(string(out)) == p.Version {
				deb = m
			}
		}
		if deb == "" {
			return fmt.Errorf("apt-get download %s=%s left no .deb in %s", p.Name, p.Version, debs)
		}
		root := versionRoot(l, p)
		tmp, err := os.MkdirTemp(l.Versions(), ".unpack-")
		if err != nil {
			if err := os.MkdirAll(l.Versions(), 0o755); err != nil {
				return err
			}
			if tmp, err = os.MkdirTemp(l.Versions(), ".unpack-"); err != nil {
				return err
			}
		}
		if out, err := exec.CommandContext(ctx, "dpkg-deb", "-x", deb, tmp).CombinedOutput(); err != nil {
			os.RemoveAll(tmp)
			return fmt.Errorf("dpkg-deb -x %s: %v: %s", deb, err, bytes.TrimSpace(out))
		}
		os.Chmod(tmp, 0o755)
		if err := os.Rename(tmp, root); err != nil {
			os.RemoveAll(tmp)
			if _, serr := os.Stat(root); serr != nil {
				return err
			}
		}
		os.Remove(deb)
	}
	return nil
}

// unitCommand reads ExecStart from the package's systemd unit
// (lib/systemd/system/NAME.service) and moves its absolute paths that the
// package holds under root. No unit: nil (the package is not a service).
func unitCommand(root, name string) ([]string, error) {
	var unit string
	for _, dir := range []string{"lib/systemd/system", "usr/lib/systemd/system"} {
		p := filepath.Join(root, dir, name+".service")
		if _, err := os.Stat(p); err == nil {
			unit = p
			break
		}
	}
	if unit == "" {
		return nil, nil
	}
	f, err := os.Open(unit)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "ExecStart=") {
			continue
		}
		words := strings.Fields(strings.TrimLeft(strings.TrimPrefix(line, "ExecStart="), "-@+!:"))
		if len(words) == 0 {
			break
		}
		for i, w := range words {
			if strings.HasPrefix(w, "/") {
				if _, err := os.Stat(filepath.Join(root, w)); err == nil {
					words[i] = filepath.Join(root, w)
				}
			}
		}
		return words, nil
	}
	return nil, fmt.Errorf("%s: no ExecStart= line", unit)
}

// listenEnv is the variable that sets a service's listen address: the
// services read NAME_LISTEN (libs/config: flags > environment > file).
func listenEnv(service string) string {
	return strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(service)) + "_LISTEN"
}
