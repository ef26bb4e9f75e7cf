package remotecache

// Exported for the external tests.
var (
	EncodeActionResultForTest = encodeActionResult
	DecodeActionResultForTest = decodeActionResult
)
