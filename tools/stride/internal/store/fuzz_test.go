package store_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/strideci/monorepo/tools/stride/internal/store"
)

// maxFuzzInput bounds the inputs FuzzParseManifest tries (see there).
const maxFuzzInput = 1024

// FuzzParseManifest feeds arbitrary bytes to the manifest parser: it must
// not panic, whatever it accepts must be valid, and what it accepts must
// render (Marshal) to a manifest that parses back to the same value.
//
//	go test -run='^$' -fuzz=FuzzParseManifest -fuzztime=10m -parallel=1 ./tools/stride/internal/store/
//
// Why the seeds are small and inputs over 1 KB are skipped: the fuzzer
// minimizes every input that finds new coverage before it goes on, and its
// minimizer tries removing every span of bytes, O(n²) runs for an n-byte
// input, for up to -fuzzminimizetime (60 s by default) each time. Seeded
// with the 2.5 KB golden manifest, every mutation that found new coverage
// was a 2.5 KB input (or a 15 KB one, once the mutator had grown it), and
// fuzzing stood still for a minute after each: about 0.1 inputs per
// second. Seeds of 100 to 400 bytes that each hold one part of a manifest
// (an artifact, a package, run info), inputs capped at 1 KB (a manifest's
// grammar needs no more) and a cheap round-trip check (bytes, not a
// reflective diff) keep it at thousands of runs a second.
func FuzzParseManifest(f *testing.F) {
	const head = `{"schema":"stride.manifest/v1","build":"b1","commit":"c","number":1,"time":"2024-05-01T12:30:00Z",`
	const art = `{"name":"debs/a_1_amd64.deb","kind":"deb","digest":"sha256:18e4aac570f0c28c0a6b141a27232fc7ca0ba2c3455b7200e9ac0e6b9c444801","size":2}`
	for _, s := range []string{
		"", "{}", "null", "[]", `{"schema":"stride.manifest/v1"}`,
		head + `"packages":[],"artifacts":[]}`,
		head + `"packages":[],"artifacts":[` + art + `]}`,
		head + `"packages":[{"name":"a","version":"1","architecture":"amd64","artifact":"debs/a_1_amd64.deb","content":"sha256:18e4aac570f0c28c0a6b141a27232fc7ca0ba2c3455b7200e9ac0e6b9c444801","since":"b0"}],"artifacts":[` + art + `]}`,
		head + `"run":{"status":"green","summary":"s","base":"b0"},"branch":"main","packages":[],"artifacts":[]}`,
		head + `"packages":[],"artifacts":[{"name":"a/../b","kind":"doc","digest":"sha256:00","size":-1}]}`,
		strings.Replace(head, `"number":1`, `"number":1e400`, 1) + `"packages":[],"artifacts":[]}`,
		strings.Replace(head, `2024-05-01`, `99999-01-01`, 1) + `"packages":[],"artifacts":[]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzInput {
			return
		}
		m, err := store.ParseManifest("fuzz.json", data)
		if err != nil {
			if m != nil {
				t.Fatalf("ParseManifest returned a manifest and an error: %v", err)
			}
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("ParseManifest accepted an invalid manifest: %v", err)
		}
		b, err := m.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a parsed manifest: %v", err)
		}
		back, err := store.ParseManifest("marshalled.json", b)
		if err != nil {
			t.Fatalf("a marshalled manifest does not parse: %v\n%s", err, b)
		}
		b2, err := back.Marshal()
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("round trip changed the manifest: %v\n%s\n%s", err, b, b2)
		}
	})
}
