package apt

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/strideci/monorepo/tools/stride/internal/atomicfile"
)

// Keyring is a GnuPG home directory holding the repository's signing key.
// Keep its path short: gpg-agent's socket lives there and socket paths are
// limited to about 100 bytes.
type Keyring struct {
	// Home is the GNUPGHOME directory.
	Home string
	// Binary is gpg; "gpg" from PATH when empty.
	Binary string
}

func (k *Keyring) gpg(ctx context.Context, stdin []byte, args ...string) ([]byte, error) {
	bin := k.Binary
	if bin == "" {
		bin = "gpg"
	}
	full := append([]string{"--batch", "--no-tty", "--homedir", k.Home}, args...)
	cmd := exec.CommandContext(ctx, bin, full...)
	cmd.Env = append(os.Environ(), "GNUPGHOME="+k.Home)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("gpg %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out.Bytes(), nil
}

// Fingerprint returns the fingerprint of the first secret key in the
// keyring, or "" if there is none.
func (k *Keyring) Fingerprint(ctx context.Context) (string, error) {
	if _, err := os.Stat(k.Home); os.IsNotExist(err) {
		return "", nil
	}
	out, err := k.gpg(ctx, nil, "--with-colons", "--list-secret-keys")
	if err != nil {
		return "", err
	}
	inSec := false
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(line, ":")
		switch f[0] {
		case "sec":
			inSec = true
		case "fpr":
			if inSec && len(f) > 9 {
				return f[9], nil
			}
		}
	}
	return "", nil
}

// Ensure returns the signing key's fingerprint, generating a key without a
// passphrase (RSA 3072, signing only, no expiry) on first use.
func (k *Keyring) Ensure(ctx context.Context, name, email string) (fpr string, created bool, err error) {
	if err := os.MkdirAll(k.Home, 0o700); err != nil {
		return "", false, fmt.Errorf("gnupg home: %w", err)
	}
	if err := os.Chmod(k.Home, 0o700); err != nil {
		return "", false, fmt.Errorf("gnupg home: %w", err)
	}
	if fpr, err := k.Fingerprint(ctx); err != nil || fpr != "" {
		return fpr, false, err
	}
	params := fmt.Sprintf(`%%no-protection
Key-Type: RSA
Key-Length: 3072
Key-Usage: sign
Name-Real: %s
Name-Email: %s
Expire-Date: 0
%%commit
`, name, email)
	if _, err := k.gpg(ctx, []byte(params), "--gen-key"); err != nil {
		return "", false, fmt.Errorf("generate the signing key: %w", err)
	}
	fpr, err = k.Fingerprint(ctx)
	if err != nil {
		return "", false, err
	}
	if fpr == "" {
		return "", false, fmt.Errorf("generate the signing key: gpg made no key in %s", k.Home)
	}
	return fpr, true, nil
}

// ExportPublic writes the public key fpr to path: binary (for apt's
// signed-by) unless armor.
func (k *Keyring) ExportPublic(ctx context.Context, fpr, path string, armor bool) error {
	args := []string{"--export"}
	if armor {
		args = []string{"--armor", "--export"}
	}
	out, err := k.gpg(ctx, nil, append(args, fpr)...)
	if err != nil {
		return err
	}
	if len(out) == 0 {
		return fmt.Errorf("export key %s: gpg printed nothing", fpr)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, out) {
		return nil
	}
	return atomicfile.Write(path, out)
}

// KillAgent stops the keyring's gpg-agent, if one runs.
func (k *Keyring) KillAgent() {
	cmd := exec.Command("gpgconf", "--kill", "gpg-agent")
	cmd.Env = append(os.Environ(), "GNUPGHOME="+k.Home)
	_ = cmd.Run()
}
