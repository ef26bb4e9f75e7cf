package cli

import (
	"flag"
	"net/url"
	"os"

	"github.com/strideci/monorepo/tools/stride/internal/affected"
	"github.com/strideci/monorepo/tools/stride/internal/remotecache"
)

// mapFlags choose the store of shared digest maps (docs/scale-out.md,
// "Warm ephemeral runners"): the remote cache's HTTP interface, or
// --map-cache when the remote cache is gRPC (bazel-remote serves HTTP on
// another port).
type mapFlags struct {
	mapCache string
}

func (mf *mapFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&mf.mapCache, "map-cache", os.Getenv("STRIDE_MAP_CACHE"), "share the affected computation's digest maps through this bazel-remote HTTP `URL` (http://HOST:PORT; env STRIDE_MAP_CACHE); default: the --remote-cache when it is http(s)://. \"off\" shares none")
}

// check rejects a --map-cache that is not an http(s) URL.
func (mf *mapFlags) check() error {
	if mf.mapCache == "" || mf.mapCache == "off" {
		return nil
	}
	u, err := remotecache.Parse(mf.mapCache)
	if err == nil && u.Scheme != "http" && u.Scheme != "https" {
		return Usagef("--map-cache %s: want http:// or https:// (bazel-remote's HTTP port)", remotecache.Redact(mf.mapCache))
	}
	if err != nil {
		return Usagef("--map-cache: %v", err)
	}
	return nil
}

// store is the shared map store for remote cache URL remote (may be "");
// nil with a note saying why when there is none.
func (mf *mapFlags) store(remote string) (affected.MapStore, string) {
	raw := mf.mapCache
	switch {
	case raw == "off":
		return nil, ""
	case raw == "" && remote == "":
		return nil, ""
	case raw == "":
		raw = remote
	}
	u, err := remotecache.Parse(raw)
	if err != nil {
		return nil, err.Error()
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, "digest maps are not shared: the remote cache " + remotecache.Redact(raw) + " is gRPC; give --map-cache http://HOST:PORT (its HTTP port)"
	}
	b, err := remotecache.NewBlobs(u, affected.MapNamespace)
	if err != nil {
		return nil, err.Error()
	}
	return b, ""
}

// sameServer reports whether the map store s is served at u's address.
func sameServer(s affected.MapStore, u *url.URL) bool {
	b, ok := s.(*remotecache.Blobs)
	return ok && b.Host() == u.Host
}
