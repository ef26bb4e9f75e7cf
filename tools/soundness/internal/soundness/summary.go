package soundness

import (
	"fmt"
	"io"
	"sort"
)

// Row is the summary of a group of changes (one kind, or all).
type Row struct {
	Kind    string `json:"kind"`
	Changes int    `json:"changes"`
	// Sound counts changes where every executed test and changed target
	// was selected (and the tool ran without error).
	Sound  int `json:"sound"`
	Oracle int `json:"oracle"` // Σ |executed ∪ changed|
	Stride int `json:"stride"` // Σ |stride's set|
	// Precision is Σ|oracle ∩ selected| / Σ|selected| (1 when nothing was
	// selected); MeanPrecision averages that per change over changes with a
	// non-empty selection.
	Precision     float64 `json:"precision"`
	MeanPrecision float64 `json:"mean_precision"`
	StrideSecs    float64 `json:"stride_secs"` // Σ time of stride affected

	TDChanges   int     `json:"td_changes,omitempty"`
	TDSound     int     `json:"td_sound,omitempty"`
	TD          int     `json:"td,omitempty"`
	TDPrecision float64 `json:"td_precision,omitempty"`
	TDSecs      float64 `json:"td_secs,omitempty"`
}

type acc struct {
	row            Row
	hit, tdHit     int
	meanSum, meanN float64
}

func (a *acc) add(r Result) {
	a.row.Changes++
	if r.Stride.Sound() {
		a.row.Sound++
	}
	a.row.Oracle += r.Oracle
	a.row.Stride += r.Stride.Count
	a.row.StrideSecs += r.Stride.Secs
	hit := r.Oracle - len(r.Stride.Missing)
	a.hit += hit
	if r.Stride.Count > 0 {
		a.meanSum += float64(hit) / float64(r.Stride.Count)
		a.meanN++
	}
	if r.TD != nil {
		a.row.TDChanges++
		if r.TD.Sound() {
			a.row.TDSound++
		}
		a.row.TD += r.TD.Count
		a.row.TDSecs += r.TD.Secs
		a.tdHit += r.Oracle - len(r.TD.Missing)
	}
}

func (a *acc) done() Row {
	r := a.row
	r.Precision = ratio(a.hit, r.Stride)
	if a.meanN > 0 {
		r.MeanPrecision = a.meanSum / a.meanN
	} else {
		r.MeanPrecision = 1
	}
	if r.TDChanges > 0 {
		r.TDPrecision = ratio(a.tdHit, r.TD)
	}
	return r
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// Summarize groups results by kind; the last row ("all") is the total.
func Summarize(results []Result) []Row {
	byKind := map[string]*acc{}
	all := &acc{row: Row{Kind: "all"}}
	for _, r := range results {
		a := byKind[r.Kind]
		if a == nil {
			a = &acc{row: Row{Kind: r.Kind}}
			byKind[r.Kind] = a
		}
		a.add(r)
		all.add(r)
	}
	var kinds []string
	for k := range byKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var rows []Row
	for _, k := range kinds {
		rows = append(rows, byKind[k].done())
	}
	return append(rows, all.done())
}

// WriteMarkdown prints the summary as a Markdown table, then the unsound
// changes (if any) with what was missing.
func WriteMarkdown(w io.Writer, results []Result) {
	rows := Summarize(results)
	td := rows[len(rows)-1].TDChanges > 0
	fmt.Fprintf(w, "| kind | changes | stride sound | Σ oracle | Σ stride | precision | mean precision | stride s/change |")
	if td {
		fmt.Fprintf(w, " td sound | Σ td | td precision | td s/change |")
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "|---|---|---|---|---|---|---|---|")
	if td {
		fmt.Fprintf(w, "---|---|---|---|")
	}
	fmt.Fprintln(w)
	for _, r := range rows {
		name := r.Kind
		if name == "all" {
			name = "**all**"
		}
		fmt.Fprintf(w, "| %s | %d | %d/%d (%.0f%%) | %d | %d | %.3f | %.3f | %.2f |", name, r.Changes, r.Sound, r.Changes,
			100*ratio(r.Sound, r.Changes), r.Oracle, r.Stride, r.Precision, r.MeanPrecision, r.StrideSecs/float64(r.Changes))
		if td {
			if r.TDChanges > 0 {
				fmt.Fprintf(w, " %d/%d | %d | %.3f | %.2f |", r.TDSound, r.TDChanges, r.TD, r.TDPrecision, r.TDSecs/float64(r.TDChanges))
			} else {
				fmt.Fprintf(w, " - | - | - | - |")
			}
		}
		fmt.Fprintln(w)
	}
	for _, r := range results {
		if !r.Stride.Sound() {
			fmt.Fprintf(w, "\nUNSOUND change %d (%s: %s) %s..%s: stride missed %d of %d: %v %s\n", r.ID, r.Kind, r.Summary,
				short(r.Base), short(r.Head), len(r.Stride.Missing), r.Oracle, first(r.Stride.Missing, 10), r.Stride.Err)
		}
	}
	var d Diff
	n := 0
	for _, r := range results {
		if r.Diff != nil {
			n++
			d.OnlyStride += r.Diff.OnlyStride
			d.OnlyStrideInOracle += r.Diff.OnlyStrideInOracle
			d.OnlyTD += r.Diff.OnlyTD
			d.OnlyTDInOracle += r.Diff.OnlyTDInOracle
		}
	}
	if n > 0 {
		fmt.Fprintf(w, "\nstride vs target-determinator on %d changes: %d labels only stride selected (%d of them re-ran or changed under Bazel, i.e. target-determinator missed them); %d only target-determinator selected (%d re-ran or changed under Bazel, i.e. stride missed them).\n",
			n, d.OnlyStride, d.OnlyStrideInOracle, d.OnlyTD, d.OnlyTDInOracle)
	}
}
