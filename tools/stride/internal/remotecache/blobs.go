package remotecache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// Blobs stores blobs under names in a remote cache's HTTP interface, as
// bazel-remote serves it (GET/PUT /cas/SHA256 and /ac/SHA256): the blob
// goes to the CAS under its own SHA-256; the AC entry under
// sha256(Namespace + "\x00" + name) is a minimal ActionResult whose one
// output file points at it. bazel-remote validates AC entries as
// ActionResults and checks that the blobs they name are in the CAS, which
// is why the entry is not the blob itself; anything else speaking Bazel's
// HTTP cache protocol stores them as they are.
//
// A Get never trusts the remote: an AC entry that does not decode, or a
// CAS blob whose size or hash is not the one the entry names, is an
// error, not data. The first transport failure (refused, timed out)
// marks the cache down: later calls fail at once with the same error, so
// a cache that is down costs one timeout.
type Blobs struct {
	base      *url.URL
	namespace string
	client    *http.Client

	mu   sync.Mutex
	down error
}

// DialTimeout is how long Blobs waits for a connection (Probe's budget).
const DialTimeout = 3 * time.Second

// NewBlobs returns the blob store of the http:// or https:// cache u
// (credentials in u are sent as basic authentication). Names are kept
// apart from other users of the cache by namespace, e.g.
// "stride.affected-map/v1".
func NewBlobs(u *url.URL, namespace string) (*Blobs, error) {
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("remote cache %s: blobs need an http:// or https:// URL (bazel-remote serves HTTP on its own port, default 8080)", Redact(u.String()))
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: DialTimeout, KeepAlive: 30 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = 30 * time.Second
	c := *u
	c.Path = strings.TrimSuffix(c.Path, "/")
	return &Blobs{base: &c, namespace: namespace, client: &http.Client{Transport: tr, Timeout: 5 * time.Minute}}, nil
}

// String is the cache's URL, password redacted.
func (b *Blobs) String() string { return Redact(b.base.String()) }

// Host is the cache's host:port as in its URL.
func (b *Blobs) Host() string { return b.base.Host }

// ACKey is the AC key of name: the hex SHA-256 of the namespace, a NUL
// and the name.
func (b *Blobs) ACKey(name string) string {
	h := sha256.Sum256([]byte(b.namespace + "\x00" + name))
	return hex.EncodeToString(h[:])
}

// Get returns the blob stored under name; nil and no error when there is
// none.
func (b *Blobs) Get(ctx context.Context, name string) ([]byte, error) {
	ar, err := b.do(ctx, http.MethodGet, "ac/"+b.ACKey(name), nil)
	if err != nil || ar == nil {
		return nil, err
	}
	hash, size, err := decodeActionResult(ar)
	if err != nil {
		return nil, fmt.Errorf("remote cache %s: AC entry of %s: %w", b, name, err)
	}
	data, err := b.do(ctx, http.MethodGet, "cas/"+hash, nil)
	if err != nil {
		return nil, err
	}
	if data == nil {
		return nil, nil // evicted from the CAS since
	}
	sum := sha256.Sum256(data)
	if int64(len(data)) != size || hex.EncodeToString(sum[:]) != hash {
		return nil, fmt.Errorf("remote cache %s: blob of %s: %d bytes hashing to %x, want %d bytes hashing to %s", b, name, len(data), sum, size, hash)
	}
	return data, nil
}

// Put stores data under name: the CAS blob first, then the AC entry that
// names it (a reader never sees an entry whose blob is not there yet).
func (b *Blobs) Put(ctx context.Context, name string, data []byte) error {
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	if _, err := b.do(ctx, http.MethodPut, "cas/"+hash, data); err != nil {
		return err
	}
	_, err := b.do(ctx, http.MethodPut, "ac/"+b.ACKey(name), encodeActionResult(name, hash, int64(len(data))))
	return err
}

// do runs one request; a GET's 404 is nil, nil.
func (b *Blobs) do(ctx context.Context, method, path string, body []byte) ([]byte, error) {
	b.mu.Lock()
	down := b.down
	b.mu.Unlock()
	if down != nil {
		return nil, down
	}
	u := *b.base
	u.Path += "/" + path
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("remote cache %s: %w", b, err)
	}
	if body != nil {
		req.ContentLength = int64(len(body))
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		err = fmt.Errorf("remote cache %s does not answer: %w", b, redactErr(err, b.base))
		if ctx.Err() == nil {
			b.mu.Lock()
			b.down = err
			b.mu.Unlock()
		}
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	switch {
	case method == http.MethodGet && resp.StatusCode == http.StatusNotFound:
		return nil, nil
	case resp.StatusCode/100 != 2:
		return nil, fmt.Errorf("remote cache %s: %s /%s: %s", b, method, path, resp.Status)
	case err != nil:
		return nil, fmt.Errorf("remote cache %s: %s /%s: %w", b, method, path, err)
	}
	return data, nil
}

// redactErr hides u's password in err's text (url.Error quotes the URL).
func redactErr(err error, u *url.URL) error {
	if u.User == nil {
		return err
	}
	if p, ok := u.User.Password(); ok && p != "" && strings.Contains(err.Error(), p) {
		return errors.New(strings.ReplaceAll(err.Error(), p, "xxxxx"))
	}
	return err
}

// The fields of build.bazel.remote.execution.v2 messages Blobs uses.
const (
	actionResultOutputFiles = 2 // ActionResult.output_files: OutputFile
	outputFilePath          = 1 // OutputFile.path
	outputFileDigest        = 2 // OutputFile.digest: Digest
	digestHash              = 1 // Digest.hash
	digestSize              = 2 // Digest.size_bytes
)

// encodeActionResult is an ActionResult with one output file, path, whose
// content has the given digest.
func encodeActionResult(path, hash string, size int64) []byte {
	var digest []byte
	digest = protowire.AppendTag(digest, digestHash, protowire.BytesType)
	digest = protowire.AppendString(digest, hash)
	digest = protowire.AppendTag(digest, digestSize, protowire.VarintType)
	digest = protowire.AppendVarint(digest, uint64(size))
	var file []byte
	file = protowire.AppendTag(file, outputFilePath, protowire.BytesType)
	file = protowire.AppendString(file, path)
	file = protowire.AppendTag(file, outputFileDigest, protowire.BytesType)
	file = protowire.AppendBytes(file, digest)
	var ar []byte
	ar = protowire.AppendTag(ar, actionResultOutputFiles, protowire.BytesType)
	return protowire.AppendBytes(ar, file)
}

// decodeActionResult is the digest of the one output file of an
// ActionResult; other fields are skipped.
func decodeActionResult(b []byte) (hash string, size int64, err error) {
	files := 0
	err = eachField(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if num != actionResultOutputFiles || typ != protowire.BytesType {
			return nil
		}
		files++
		return eachField(v, func(num protowire.Number, typ protowire.Type, v []byte) error {
			if num != outputFileDigest || typ != protowire.BytesType {
				return nil
			}
			return eachField(v, func(num protowire.Number, typ protowire.Type, v []byte) error {
				switch {
				case num == digestHash && typ == protowire.BytesType:
					hash = string(v)
				case num == digestSize && typ == protowire.VarintType:
					x, n := protowire.ConsumeVarint(v)
					if n < 0 || x > 1<<62 {
						return errors.New("bad size_bytes")
					}
					size = int64(x)
				}
				return nil
			})
		})
	})
	if err != nil {
		return "", 0, err
	}
	if files != 1 {
		return "", 0, fmt.Errorf("%d output files, want 1", files)
	}
	if len(hash) != 64 || strings.Trim(hash, "0123456789abcdef") != "" {
		return "", 0, fmt.Errorf("digest hash %q is not a SHA-256", hash)
	}
	return hash, size, nil
}

// eachField calls f with each field of the message b: for a varint its
// encoding, for a length-delimited field its content.
func eachField(b []byte, f func(protowire.Number, protowire.Type, []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("bad protobuf tag: %w", protowire.ParseError(n))
		}
		b = b[n:]
		var v []byte
		switch typ {
		case protowire.BytesType:
			c, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return fmt.Errorf("bad protobuf field %d: %w", num, protowire.ParseError(m))
			}
			v, n = c, m
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return fmt.Errorf("bad protobuf field %d: %w", num, protowire.ParseError(n))
			}
			v = b[:n]
		}
		if err := f(num, typ, v); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}
