package remotecache_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/strideci/monorepo/tools/stride/internal/remotecache"
	"github.com/strideci/monorepo/tools/stride/internal/remotecache/remotecachetest"
)

// TestBlobsBazelRemote stores and reads blobs through a real bazel-remote
// (which validates AC entries as ActionResults) and checks that a blob
// that does not hash to what its entry names is refused, not returned.
func TestBlobsBazelRemote(t *testing.T) {
	if testing.Short() {
		t.Skip("starts bazel-remote")
	}
	srv := remotecachetest.Start(t)
	u, err := url.Parse(srv.HTTP)
	if err != nil {
		t.Fatal(err)
	}
	b, err := remotecache.NewBlobs(u, "stride.test/v1")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if got, err := b.Get(ctx, "missing"); got != nil || err != nil {
		t.Fatalf("Get(missing) = %q, %v; want nil, nil", got, err)
	}
	data := bytes.Repeat([]byte("digest map "), 10000)
	if err := b.Put(ctx, "k1", data); err != nil {
		t.Fatalf("Put: %v", err)
	}
	got, err := b.Get(ctx, "k1")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get(k1) = %d bytes, %v; want the %d bytes put", len(got), err, len(data))
	}
	// Another namespace does not see it.
	other, _ := remotecache.NewBlobs(u, "stride.other/v1")
	if got, err := other.Get(ctx, "k1"); got != nil || err != nil {
		t.Fatalf("other namespace Get(k1) = %d bytes, %v; want nil, nil", len(got), err)
	}

	// bazel-remote refuses what does not hash to its key, and answers
	// 404 for an entry whose blob is not there: a corrupt cache is
	// TestBlobsCorrupt's server.
}

// TestBlobsCorrupt: a server (standing for a corrupt or hostile cache,
// which bazel-remote will not be made into) whose entries name blobs
// they do not hold: every Get is an error, never the data.
func TestBlobsCorrupt(t *testing.T) {
	blob := []byte("the map")
	sum := sha256.Sum256(blob)
	good := hex.EncodeToString(sum[:])
	cases := map[string]struct {
		ac  []byte
		cas []byte
	}{
		"wrong size":     {remotecache.EncodeActionResultForTest("k", good, 999), blob},
		"wrong content":  {remotecache.EncodeActionResultForTest("k", good, int64(len(blob))), []byte("the mad")},
		"truncated blob": {remotecache.EncodeActionResultForTest("k", good, int64(len(blob))), blob[:3]},
		"garbage entry":  {[]byte("not a protobuf \xff\xff"), blob},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch {
				case strings.HasPrefix(r.URL.Path, "/ac/"):
					w.Write(tc.ac)
				case r.URL.Path == "/cas/"+good:
					w.Write(tc.cas)
				default:
					http.NotFound(w, r)
				}
			}))
			defer srv.Close()
			u, _ := url.Parse(srv.URL)
			b, _ := remotecache.NewBlobs(u, "stride.test/v1")
			if got, err := b.Get(context.Background(), "k"); got != nil || err == nil {
				t.Fatalf("Get = %q, %v; want an error", got, err)
			}
		})
	}
}

// TestBlobsDown: a cache that does not answer costs one dial; later calls
// fail at once.
func TestBlobsDown(t *testing.T) {
	u, _ := url.Parse("http://127.0.0.1:1")
	b, err := remotecache.NewBlobs(u, "stride.test/v1")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := b.Get(ctx, "k"); err == nil || !strings.Contains(err.Error(), "does not answer") {
		t.Fatalf("Get = %v; want does not answer", err)
	}
	start := time.Now()
	if err := b.Put(ctx, "k", []byte("x")); err == nil {
		t.Fatal("Put on a cache that is down succeeded")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("second call took %v; want an immediate failure", d)
	}
	g, _ := url.Parse("grpc://127.0.0.1:9092")
	if _, err := remotecache.NewBlobs(g, "x"); err == nil {
		t.Error("NewBlobs(grpc://) succeeded; want an error (HTTP only)")
	}
}

func TestDecodeActionResult(t *testing.T) {
	h := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"valid", remotecache.EncodeActionResultForTest("p", h, 12), true},
		{"empty", nil, false},
		{"truncated", remotecache.EncodeActionResultForTest("p", h, 12)[:20], false},
		{"not a sha256", remotecache.EncodeActionResultForTest("p", "xyz", 12), false},
		{"garbage", []byte("\xff\xff\xff\xff"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hash, size, err := remotecache.DecodeActionResultForTest(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("decode = %q, %d, %v; want ok=%v", hash, size, err, tc.ok)
			}
			if tc.ok && (hash != h || size != 12) {
				t.Errorf("decode = %q, %d; want %q, 12", hash, size, h)
			}
		})
	}
}
