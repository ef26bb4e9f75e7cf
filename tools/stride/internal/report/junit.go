package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// JUnit is a JUnit XML document: the merged junit.xml of a run has one
// <testsuite> per Bazel test target, named by its label, with the target's
// cases from its test.xml. Each suite carries properties bazel.status,
// cached and flaky, so CI systems that read JUnit see which results came
// from Bazel's cache and which passed only on retry.
type JUnit struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr,omitempty"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr,omitempty"`
	Suites   []JUnitSuite `xml:"testsuite"`
}

// JUnitSuite is one <testsuite>.
type JUnitSuite struct {
	Name       string         `xml:"name,attr"`
	Tests      int            `xml:"tests,attr"`
	Failures   int            `xml:"failures,attr"`
	Errors     int            `xml:"errors,attr"`
	Skipped    int            `xml:"skipped,attr"`
	Time       string         `xml:"time,attr,omitempty"`
	Properties *JUnitProps    `xml:"properties,omitempty"`
	Cases      []JUnitCase    `xml:"testcase"`
	Suites     []JUnitSuite   `xml:"testsuite,omitempty"` // nested suites (input only)
	SystemOut  *JUnitCharData `xml:"system-out,omitempty"`
}

// JUnitProps is <properties>.
type JUnitProps struct {
	Props []JUnitProp `xml:"property"`
}

// JUnitProp is one <property name=".." value=".."/>.
type JUnitProp struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// JUnitCase is one <testcase>.
type JUnitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr,omitempty"`
	Time      string        `xml:"time,attr,omitempty"`
	Failure   *JUnitProblem `xml:"failure,omitempty"`
	Error     *JUnitProblem `xml:"error,omitempty"`
	Skipped   *JUnitProblem `xml:"skipped,omitempty"`
}

// JUnitProblem is a <failure>, <error> or <skipped>.
type JUnitProblem struct {
	Message string `xml:"message,attr,omitempty"`
	Type    string `xml:"type,attr,omitempty"`
	Body    string `xml:",chardata"`
}

// JUnitCharData is text kept as CDATA-free character data.
type JUnitCharData struct {
	Text string `xml:",chardata"`
}

// ParseTestXML reads a test.xml as Bazel's test runners write it: a
// <testsuites> root (or a single <testsuite>). It returns the cases of all
// its suites, flattened, in file order.
func ParseTestXML(path string) ([]JUnitCase, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read test.xml: %w", err)
	}
	cases, err := parseTestXML(b)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return cases, nil
}

func parseTestXML(b []byte) ([]JUnitCase, error) {
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = false
	// Find the root element.
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, errors.New("no root element")
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		var cases []JUnitCase
		switch se.Name.Local {
		case "testsuites":
			var doc JUnit
			if err := dec.DecodeElement(&doc, &se); err != nil {
				return nil, err
			}
			for i := range doc.Suites {
				cases = append(cases, flatten(&doc.Suites[i])...)
			}
		case "testsuite":
			var s JUnitSuite
			if err := dec.DecodeElement(&s, &se); err != nil {
				return nil, err
			}
			cases = flatten(&s)
		default:
			return nil, fmt.Errorf("root element <%s>, want <testsuites> or <testsuite>", se.Name.Local)
		}
		return cases, nil
	}
}

func flatten(s *JUnitSuite) []JUnitCase {
	cases := append([]JUnitCase{}, s.Cases...)
	for i := range cases {
		if cases[i].Classname == "" {
			cases[i].Classname = s.Name
		}
	}
	for i := range s.Suites {
		cases = append(cases, flatten(&s.Suites[i])...)
	}
	return cases
}

// caseFailed reports whether a case failed or errored.
func caseFailed(c *JUnitCase) bool { return c.Failure != nil || c.Error != nil }

// SuiteFor builds the merged suite of one test target from its parsed cases
// (nil when its test.xml is missing or unreadable), and fills t.Cases and
// t.FailedCases. A target with no cases, or one that failed while none of
// its cases did (a timeout, a crash after the cases ran), gets a
// synthesized case named by its label, so that every failed target shows
// as a failure in JUnit.
func SuiteFor(t *TestResult, cases []JUnitCase) JUnitSuite {
	s := JUnitSuite{Name: t.Label, Time: seconds(t.DurationMS)}
	props := []JUnitProp{{Name: "bazel.status", Value: t.Status}}
	if t.Cached {
		props = append(props, JUnitProp{Name: "cached", Value: "true"})
	}
	if t.Flaky {
		props = append(props, JUnitProp{Name: "flaky", Value: "true"})
	}
	if len(t.Tags) > 0 {
		props = append(props, JUnitProp{Name: "tags", Value: strings.Join(t.Tags, ",")})
	}
	s.Properties = &JUnitProps{Props: props}

	t.Cases = len(cases)
	t.FailedCases = nil
	all := make([]JUnitCase, 0, len(cases)+1)
	for _, c := range cases {
		if c.Classname == "" {
			c.Classname = t.Label
		}
		if caseFailed(&c) {
			t.FailedCases = append(t.FailedCases, c.Name)
		}
		all = append(all, c)
	}
	passed := Passed(t.Status)
	if len(cases) == 0 || (!passed && !anyFailed(cases)) {
		c := JUnitCase{Name: t.Label, Classname: t.Label}
		if len(cases) == 0 {
			c.Time = s.Time
		}
		if !passed {
			c.Failure = &JUnitProblem{Message: "test " + strings.ToLower(t.Status), Type: t.Status, Body: t.LogTail}
			t.FailedCases = append(t.FailedCases, "("+strings.ToLower(t.Status)+")")
		}
		all = append(all, c)
	}
	for i := range all {
		s.Tests++
		switch {
		case all[i].Failure != nil:
			s.Failures++
		case all[i].Error != nil:
			s.Errors++
		case all[i].Skipped != nil:
			s.Skipped++
		}
	}
	s.Cases = all
	if !passed && t.LogTail != "" {
		s.SystemOut = &JUnitCharData{Text: t.LogTail}
	}
	return s
}

func anyFailed(cases []JUnitCase) bool {
	for i := range cases {
		if caseFailed(&cases[i]) {
			return true
		}
	}
	return false
}

// MergeJUnit makes the run's junit.xml from the targets' suites, sorted by
// label.
func MergeJUnit(name string, suites []JUnitSuite) *JUnit {
	sorted := append([]JUnitSuite{}, suites...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	j := &JUnit{Name: name, Suites: sorted}
	var ms int64
	for _, s := range sorted {
		j.Tests += s.Tests
		j.Failures += s.Failures
		j.Errors += s.Errors
		j.Skipped += s.Skipped
		if f, err := strconv.ParseFloat(s.Time, 64); err == nil {
			ms += int64(f*1000 + 0.5)
		}
	}
	j.Time = seconds(ms)
	return j
}

// Marshal renders the document with an XML header.
func (j *JUnit) Marshal() ([]byte, error) {
	b, err := xml.MarshalIndent(j, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode junit: %w", err)
	}
	return append([]byte(xml.Header), append(b, '\n')...), nil
}

func seconds(ms int64) string {
	return strconv.FormatFloat(float64(ms)/1000, 'f', 3, 64)
}
