// Package buildevent reads Bazel's build event protocol (BEP) from the JSON
// file Bazel writes with --build_event_json_file: one JSON object per line,
// written as the build goes. It decodes a finished file (DecodeEvents) or
// follows one while Bazel writes it (FollowEvents). Only the fields stride
// and the soundness harness read are decoded; the rest is ignored, so newer
// Bazels with more fields decode the same.
package buildevent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// BuildEvent is one event of the stream. Exactly one of the payload fields
// is set for a given kind of ID.
type BuildEvent struct {
	ID          EventID   `json:"id"`
	Children    []EventID `json:"children,omitempty"`
	LastMessage bool      `json:"lastMessage,omitempty"`

	Started         *BuildStarted    `json:"started,omitempty"`
	NamedSetOfFiles *NamedSetOfFiles `json:"namedSetOfFiles,omitempty"`
	Progress        *Progress        `json:"progress,omitempty"`
	Aborted         *Aborted         `json:"aborted,omitempty"`
	Expanded        *struct{}        `json:"expanded,omitempty"` // pattern expanded; targets are the children
	Configured      *Configured      `json:"configured,omitempty"`
	Completed       *Completed       `json:"completed,omitempty"`
	Action          *ActionDone      `json:"action,omitempty"`
	TestResult      *TestResult      `json:"testResult,omitempty"`
	TestSummary     *TestSummary     `json:"testSummary,omitempty"`
	Finished        *BuildFinished   `json:"finished,omitempty"`
	BuildMetrics    *BuildMetrics    `json:"buildMetrics,omitempty"`
	WorkspaceInfo   *struct {
		LocalExecRoot string `json:"localExecRoot,omitempty"`
	} `json:"workspaceInfo,omitempty"`
}

// EventID identifies an event; one field is set.
type EventID struct {
	Started           *struct{}     `json:"started,omitempty"`
	NamedSet          *NamedSetID   `json:"namedSet,omitempty"`
	Progress          *struct{}     `json:"progress,omitempty"`
	Pattern           *PatternID    `json:"pattern,omitempty"`
	PatternSkipped    *PatternID    `json:"patternSkipped,omitempty"`
	TargetConfigured  *TargetID     `json:"targetConfigured,omitempty"`
	TargetCompleted   *TargetID     `json:"targetCompleted,omitempty"`
	UnconfiguredLabel *TargetID     `json:"unconfiguredLabel,omitempty"`
	ConfiguredLabel   *TargetID     `json:"configuredLabel,omitempty"`
	ActionCompleted   *ActionID     `json:"actionCompleted,omitempty"`
	TestResult        *TestResultID `json:"testResult,omitempty"`
	TestSummary       *TargetID     `json:"testSummary,omitempty"`
	BuildFinished     *struct{}     `json:"buildFinished,omitempty"`
	BuildMetrics      *struct{}     `json:"buildMetrics,omitempty"`
}

// NamedSetID names a set of files (namedSetOfFiles events), which
// completed targets refer to by ID.
type NamedSetID struct {
	ID string `json:"id,omitempty"`
}

// NamedSetOfFiles is a set of files: its own and those of other sets.
type NamedSetOfFiles struct {
	Files    []File       `json:"files,omitempty"`
	FileSets []NamedSetID `json:"fileSets,omitempty"`
}

// PatternID names the target patterns of a pattern event.
type PatternID struct {
	Pattern []string `json:"pattern,omitempty"`
}

// TargetID names a target (configured or not).
type TargetID struct {
	Label string `json:"label,omitempty"`
}

// ActionID names a completed action.
type ActionID struct {
	PrimaryOutput string `json:"primaryOutput,omitempty"`
	Label         string `json:"label,omitempty"`
}

// TestResultID names one attempt of one run of one shard of a test.
type TestResultID struct {
	Label   string `json:"label,omitempty"`
	Run     int    `json:"run,omitempty"`
	Shard   int    `json:"shard,omitempty"`
	Attempt int    `json:"attempt,omitempty"`
}

// Label returns the target label the event is about, or "".
func (id EventID) Label() string {
	switch {
	case id.TargetConfigured != nil:
		return id.TargetConfigured.Label
	case id.TargetCompleted != nil:
		return id.TargetCompleted.Label
	case id.UnconfiguredLabel != nil:
		return id.UnconfiguredLabel.Label
	case id.ConfiguredLabel != nil:
		return id.ConfiguredLabel.Label
	case id.TestResult != nil:
		return id.TestResult.Label
	case id.TestSummary != nil:
		return id.TestSummary.Label
	case id.ActionCompleted != nil:
		return id.ActionCompleted.Label
	}
	return ""
}

// BuildStarted is the first event.
type BuildStarted struct {
	UUID            string `json:"uuid,omitempty"`
	StartTimeMillis Int64  `json:"startTimeMillis,omitempty"`
	Command         string `json:"command,omitempty"`
}

// Progress carries chunks of Bazel's console output.
type Progress struct {
	Stdout string `json:"stdout,omitempty"`
	Stderr string `json:"stderr,omitempty"`
}

// Aborted says why an expected event will never come (a target that failed
// to load or analyze, an interrupted build...).
type Aborted struct {
	Reason      string `json:"reason,omitempty"`
	Description string `json:"description,omitempty"`
}

// Configured is a target's kind and tags, known after analysis.
type Configured struct {
	TargetKind string   `json:"targetKind,omitempty"` // e.g. "sh_test rule"
	TestSize   string   `json:"testSize,omitempty"`
	Tag        []string `json:"tag,omitempty"`
}

// Completed says whether a target built, and what it built.
type Completed struct {
	Success       bool           `json:"success,omitempty"`
	Tag           []string       `json:"tag,omitempty"`
	FailureDetail *FailureDetail `json:"failureDetail,omitempty"`
	// OutputGroup lists the target's output groups ("default", ...) as
	// named sets; ImportantOutput is the older, flat list of its files.
	OutputGroup     []OutputGroup `json:"outputGroup,omitempty"`
	ImportantOutput []File        `json:"importantOutput,omitempty"`
}

// OutputGroup is one output group of a completed target.
type OutputGroup struct {
	Name     string       `json:"name,omitempty"`
	FileSets []NamedSetID `json:"fileSets,omitempty"`
}

// FailureDetail is Bazel's description of a failure.
type FailureDetail struct {
	Message string `json:"message,omitempty"`
}

// ActionDone is an action Bazel reports (always the failed ones).
type ActionDone struct {
	Success       bool           `json:"success,omitempty"`
	ExitCode      int            `json:"exitCode,omitempty"`
	Type          string         `json:"type,omitempty"`
	Label         string         `json:"label,omitempty"`
	Stderr        *File          `json:"stderr,omitempty"`
	FailureDetail *FailureDetail `json:"failureDetail,omitempty"`
}

// File is a file Bazel names by URI.
type File struct {
	Name string `json:"name,omitempty"`
	URI  string `json:"uri,omitempty"`
}

// Path returns the local path of a file:// URI, or "".
func (f File) Path() string {
	if !strings.HasPrefix(f.URI, "file://") {
		return ""
	}
	u, err := url.Parse(f.URI)
	if err != nil {
		return strings.TrimPrefix(f.URI, "file://")
	}
	return u.Path
}

// TestResult is one attempt of a test.
type TestResult struct {
	Status           string `json:"status,omitempty"` // PASSED, FLAKY, FAILED, TIMEOUT, ...
	StatusDetails    string `json:"statusDetails,omitempty"`
	CachedLocally    bool   `json:"cachedLocally,omitempty"`
	DurationMillis   Int64  `json:"testAttemptDurationMillis,omitempty"`
	StartMillisEpoch Int64  `json:"testAttemptStartMillisEpoch,omitempty"`
	TestActionOutput []File `json:"testActionOutput,omitempty"`
	ExecutionInfo    *struct {
		Strategy     string `json:"strategy,omitempty"`
		CachedRemote bool   `json:"cachedRemotely,omitempty"`
	} `json:"executionInfo,omitempty"`
}

// Output returns the path of the named test output ("test.xml",
// "test.log"), or "".
func (r *TestResult) Output(name string) string {
	for _, f := range r.TestActionOutput {
		if f.Name == name {
			return f.Path()
		}
	}
	return ""
}

// TestSummary is the outcome of a test target over all its runs.
type TestSummary struct {
	OverallStatus          string `json:"overallStatus,omitempty"`
	TotalRunCount          int    `json:"totalRunCount,omitempty"`
	AttemptCount           int    `json:"attemptCount,omitempty"`
	ShardCount             int    `json:"shardCount,omitempty"`
	TotalNumCached         int    `json:"totalNumCached,omitempty"`
	Passed                 []File `json:"passed,omitempty"`
	Failed                 []File `json:"failed,omitempty"`
	TotalRunDurationMillis Int64  `json:"totalRunDurationMillis,omitempty"`
}

// BuildFinished is the end of the build.
type BuildFinished struct {
	OverallSuccess   bool  `json:"overallSuccess,omitempty"`
	FinishTimeMillis Int64 `json:"finishTimeMillis,omitempty"`
	ExitCode         *struct {
		Name string `json:"name,omitempty"`
		Code int    `json:"code,omitempty"`
	} `json:"exitCode,omitempty"`
}

// Code returns Bazel's exit code as the stream reports it (0 when the
// exitCode field is absent, which proto3 JSON does for SUCCESS).
func (f *BuildFinished) Code() int {
	if f == nil || f.ExitCode == nil {
		return 0
	}
	return f.ExitCode.Code
}

// BuildMetrics are counters sent at the end.
type BuildMetrics struct {
	ActionSummary struct {
		ActionsCreated  Int64 `json:"actionsCreated,omitempty"`
		ActionsExecuted Int64 `json:"actionsExecuted,omitempty"`
		RemoteCacheHits Int64 `json:"remoteCacheHits,omitempty"`
	} `json:"actionSummary"`
	TimingMetrics struct {
		WallTimeInMs Int64 `json:"wallTimeInMs,omitempty"`
		CPUTimeInMs  Int64 `json:"cpuTimeInMs,omitempty"`
	} `json:"timingMetrics"`
}

// Int64 decodes proto3 JSON's int64, which is a string ("163") but may
// be a number.
type Int64 int64

// UnmarshalJSON accepts "123" and 123.
func (n *Int64) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("int64 %s: %w", b, err)
	}
	*n = Int64(v)
	return nil
}

// DecodeEvents reads a complete BEP JSON stream, calling fn for each event.
// A malformed line is an error naming its line number.
func DecodeEvents(r io.Reader, fn func(*BuildEvent)) error {
	br := bufio.NewReader(r)
	line := 0
	for {
		b, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(b)) > 0 {
			line++
			ev := new(BuildEvent)
			if jerr := json.Unmarshal(b, ev); jerr != nil {
				return fmt.Errorf("build event line %d: %w", line, jerr)
			}
			fn(ev)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// FollowResult says how a followed stream ended.
type FollowResult struct {
	Events      int  // events decoded
	LastMessage bool // the stream's last event (lastMessage: true) was seen
}

// ErrStreamCorrupt: a line of the event file is not valid JSON.
var ErrStreamCorrupt = errors.New("corrupt build event stream")

// FollowEvents tails the BEP JSON file at path while Bazel writes it,
// calling fn for each complete line. It returns when the last message was
// read, or when done is closed (the Bazel process exited) and the file has
// been read to its end, or when ctx is cancelled. The file need not exist
// yet when FollowEvents starts.
func FollowEvents(ctx context.Context, path string, done <-chan struct{}, fn func(*BuildEvent)) (FollowResult, error) {
	var res FollowResult
	const poll = 50 * time.Millisecond
	var f *os.File
	for f == nil {
		var err error
		f, err = os.Open(path)
		if err == nil {
			break
		}
		if !os.IsNotExist(err) {
			return res, fmt.Errorf("open build events: %w", err)
		}
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-done:
			// Bazel exited; it may have created the file meanwhile.
			f2, err := os.Open(path)
			if err != nil {
				return res, nil // never created (e.g. bad flags)
			}
			f = f2
		case <-time.After(poll):
		}
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<16)
	var partial []byte
	exited := false
	for {
		b, err := br.ReadBytes('\n')
		if err == nil {
			if len(partial) > 0 {
				b = append(partial, b...)
				partial = nil
			}
			if len(bytes.TrimSpace(b)) == 0 {
				continue
			}
			ev := new(BuildEvent)
			if jerr := json.Unmarshal(b, ev); jerr != nil {
				return res, fmt.Errorf("%w: %s event %d: %v", ErrStreamCorrupt, path, res.Events+1, jerr)
			}
			res.Events++
			fn(ev)
			if ev.LastMessage {
				res.LastMessage = true
				return res, nil
			}
			continue
		}
		if err != io.EOF {
			return res, fmt.Errorf("read build events %s: %w", path, err)
		}
		partial = append(partial, b...)
		if exited {
			// Bazel is gone and the file is read to its end.
			return res, nil
		}
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-done:
			exited = true // read once more to the end, then stop
		case <-time.After(poll):
		}
	}
}
