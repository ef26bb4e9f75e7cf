package apt

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"pault.ag/go/debian/control"
	"pault.ag/go/debian/version"

	"github.com/strideci/monorepo/tools/stride/internal/atomicfile"
)

// Deb is what stride needs to know of a .deb file.
type Deb struct {
	Path         string
	Package      string
	Version      string
	Architecture string
	// Control is the package's control file as it is in the .deb.
	Control []byte
	// Content is the sha256 of the package apart from its version: its
	// data member and its control fields other than Version. Two builds of
	// an unchanged service have the same Content.
	Content string
}

// Filename is the canonical file name, NAME_VERSION_ARCH.deb (an epoch, if
// any, is left out as dpkg does).
func (d *Deb) Filename() string {
	v := d.Version
	if i := strings.IndexByte(v, ':'); i >= 0 {
		v = v[i+1:]
	}
	return d.Package + "_" + v + "_" + d.Architecture + ".deb"
}

// arMember is one member of an ar archive.
type arMember struct {
	name  string
	mtime int64
	mode  int64
	data  []byte
}

const arMagic = "!<arch>\n"

func readAr(b []byte) ([]arMember, error) {
	if !bytes.HasPrefix(b, []byte(arMagic)) {
		return nil, errors.New("not an ar archive (no !<arch> magic)")
	}
	var out []arMember
	off := len(arMagic)
	for off < len(b) {
		if len(b)-off < 60 {
			return nil, fmt.Errorf("truncated ar header at byte %d", off)
		}
		h := b[off : off+60]
		if h[58] != '`' || h[59] != '\n' {
			return nil, fmt.Errorf("bad ar header at byte %d", off)
		}
		name := strings.TrimRight(strings.TrimSpace(string(h[0:16])), "/")
		mtime, _ := strconv.ParseInt(strings.TrimSpace(string(h[16:28])), 10, 64)
		mode, _ := strconv.ParseInt(strings.TrimSpace(string(h[40:48])), 8, 64)
		size, err := strconv.ParseInt(strings.TrimSpace(string(h[48:58])), 10, 64)
		if err != nil || size < 0 || int64(len(b)-off-60) < size {
			return nil, fmt.Errorf("bad ar member size at byte %d", off)
		}
		off += 60
		out = append(out, arMember{name: name, mtime: mtime, mode: mode, data: b[off : off+int(size)]})
		off += int(size)
		if off%2 == 1 {
			off++
		}
	}
	return out, nil
}

func writeAr(w io.Writer, members []arMember) error {
	if _, err := io.WriteString(w, arMagic); err != nil {
		return err
	}
	for _, m := range members {
		hdr := fmt.Sprintf("%-16s%-12d%-6d%-6d%-8o%-10d`\n", m.name, m.mtime, 0, 0, m.mode, len(m.data))
		if len(hdr) != 60 {
			return fmt.Errorf("ar member %s: header too long", m.name)
		}
		if _, err := io.WriteString(w, hdr); err != nil {
			return err
		}
		if _, err := w.Write(m.data); err != nil {
			return err
		}
		if len(m.data)%2 == 1 {
			if _, err := w.Write([]byte{'\n'}); err != nil {
				return err
			}
		}
	}
	return nil
}

// deb splits a .deb into its members and checks their order.
func splitDeb(b []byte) (members []arMember, control, data int, err error) {
	members, err = readAr(b)
	if err != nil {
		return nil, 0, 0, err
	}
	if len(members) < 3 || members[0].name != "debian-binary" || !strings.HasPrefix(members[1].name, "control.tar") || !strings.HasPrefix(members[2].name, "data.tar") {
		return nil, 0, 0, errors.New("not a Debian binary package (want debian-binary, control.tar.*, data.tar.*)")
	}
	return members, 1, 2, nil
}

// ctrlTar returns the uncompressed control tarball, asking dpkg-deb (which
// knows every compression dpkg supports).
func ctrlTar(ctx context.Context, path string) ([]byte, error) {
	var out, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "dpkg-deb", "--ctrl-tarfile", path)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ctx.Err() == nil { // dpkg-deb ran and refused the file
			return nil, notDeb(path, fmt.Errorf("dpkg-deb --ctrl-tarfile: %v: %s", err, strings.TrimSpace(stderr.String())))
		}
		return nil, fmt.Errorf("dpkg-deb --ctrl-tarfile %s: %v: %s", path, err, strings.TrimSpace(stderr.String()))
	}
	return out.Bytes(), nil
}

func controlFromTar(t []byte) ([]byte, error) {
	tr := tar.NewReader(bytes.NewReader(t))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, errors.New("no control file in the control member")
		}
		if err != nil {
			return nil, fmt.Errorf("read control member: %w", err)
		}
		if strings.TrimPrefix(h.Name, "./") == "control" {
			return io.ReadAll(tr)
		}
	}
}

// ParseControl parses a binary package's control file.
func ParseControl(name string, b []byte) (*control.BinaryIndex, error) {
	var idx control.BinaryIndex
	if err := control.Unmarshal(&idx, bytes.NewReader(b)); err != nil {
		return nil, fmt.Errorf("parse control file of %s: %w", name, err)
	}
	if idx.Package == "" || idx.Version.Empty() || idx.Architecture.String() == "" {
		return nil, fmt.Errorf("control file of %s: Package, Version and Architecture are required", name)
	}
	return &idx, nil
}

// ErrNotDeb: a file given as a Debian package is missing or is not one
// (bad input, not a tool failure).
var ErrNotDeb = errors.New("not a readable Debian package")

// notDeb wraps a problem with the file itself as ErrNotDeb.
func notDeb(path string, err error) error {
	return fmt.Errorf("%s: %w: %v", path, ErrNotDeb, err)
}

// ReadDeb reads a .deb's control file and computes its content digest. A
// missing file or one that is not a .deb gives ErrNotDeb.
func ReadDeb(ctx context.Context, path string) (*Deb, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, notDeb(path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, notDeb(path, errors.New("not a regular file"))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read deb: %w", err)
	}
	members, _, data, err := splitDeb(b)
	if err != nil {
		return nil, notDeb(path, err)
	}
	t, err := ctrlTar(ctx, path)
	if err != nil {
		return nil, err
	}
	ctl, err := controlFromTar(t)
	if err != nil {
		return nil, notDeb(path, err)
	}
	idx, err := ParseControl(path, ctl)
	if err != nil {
		return nil, notDeb(path, err)
	}
	return &Deb{
		Path:         path,
		Package:      idx.Package,
		Version:      idx.Version.String(),
		Architecture: idx.Architecture.String(),
		Control:      ctl,
		Content:      contentDigest(ctl, members[data].data),
	}, nil
}

// contentDigest hashes the control fields other than Version (sorted, so
// field order does not matter) and the data member.
func contentDigest(ctl, data []byte) string {
	h := sha256.New()
	p, err := control.NewParagraphReader(bytes.NewReader(ctl), nil)
	if err == nil {
		if para, err := p.Next(); err == nil {
			keys := append([]string{}, para.Order...)
			sort.Strings(keys)
			for _, k := range keys {
				if k == "Version" {
					continue
				}
				fmt.Fprintf(h, "%s: %s\n", k, para.Values[k])
			}
		}
	}
	fmt.Fprintf(h, "\x00data %d\x00", len(data))
	h.Write(data)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

var versionLine = regexp.MustCompile(`(?m)^Version:[ \t]*[^\n]*$`)

// SetVersion writes a copy of the .deb at in to out with its control
// Version set to v. The data member is copied byte for byte; the control
// member is rewritten as control.tar.gz. The output depends only on the
// input and v (fixed timestamps, no gzip name), so it is reproducible.
func SetVersion(ctx context.Context, in, out, v string) (*Deb, error) {
	if _, err := version.Parse(v); err != nil {
		return nil, fmt.Errorf("version %q: %w", v, err)
	}
	b, err := os.ReadFile(in)
	if err != nil {
		return nil, fmt.Errorf("read deb: %w", err)
	}
	members, ci, di, err := splitDeb(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in, err)
	}
	t, err := ctrlTar(ctx, in)
	if err != nil {
		return nil, err
	}
	var tbuf bytes.Buffer
	tw := tar.NewWriter(&tbuf)
	tr := tar.NewReader(bytes.NewReader(t))
	var newCtl []byte
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: read control member: %w", in, err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("%s: read control member: %w", in, err)
		}
		if strings.TrimPrefix(h.Name, "./") == "control" {
			if !versionLine.Match(body) {
				return nil, fmt.Errorf("%s: control file has no Version field", in)
			}
			body = versionLine.ReplaceAll(body, []byte("Version: "+v))
			newCtl = body
			h.Size = int64(len(body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("%s: write control member: %w", in, err)
		}
		if _, err := tw.Write(body); err != nil {
			return nil, fmt.Errorf("%s: write control member: %w", in, err)
		}
	}
	if newCtl == nil {
		return nil, fmt.Errorf("%s: no control file in the control member", in)
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	idx, err := ParseControl(in, newCtl)
	if err != nil {
		return nil, err
	}
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(tbuf.Bytes()); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	ctlMember := members[ci]
	ctlMember.name = "control.tar.gz"
	ctlMember.data = gz.Bytes()
	outMembers := []arMember{members[0], ctlMember}
	outMembers = append(outMembers, members[di:]...)

	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	if err := writeAr(w, outMembers); err != nil {
		return nil, err
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	if err := atomicfile.Write(out, buf.Bytes()); err != nil {
		return nil, err
	}
	return &Deb{
		Path:         out,
		Package:      idx.Package,
		Version:      idx.Version.String(),
		Architecture: idx.Architecture.String(),
		Control:      newCtl,
		Content:      contentDigest(newCtl, members[di].data),
	}, nil
}

// CompareVersions compares two Debian versions: <0, 0 or >0. Unparsable
// versions compare as strings, after parsable ones.
func CompareVersions(a, b string) int {
	va, ea := version.Parse(a)
	vb, eb := version.Parse(b)
	switch {
	case ea == nil && eb == nil:
		return version.Compare(va, vb)
	case ea == nil:
		return 1
	case eb == nil:
		return -1
	}
	return strings.Compare(a, b)
}

// BuildVersion is the package version of a build: 0.<number>.0+g<7 hex
// digits of the commit>, e.g. 0.42.0+g3f2a9c0.
func BuildVersion(number int, commit string) string {
	short := commit
	if len(short) > 7 {
		short = short[:7]
	}
	return fmt.Sprintf("0.%d.0+g%s", number, short)
}
