package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrSourcesDisagree: the records of what the environments serve do not
// say the same thing (one was lost, or a change to them was interrupted).
// GC refuses to run until they agree again.
var ErrSourcesDisagree = errors.New("the records of what each environment serves disagree")

// Environments maps each environment (a published distribution: dev, uat,
// ...) to the builds it may serve: one build, or several when a source
// cannot tell apart builds that publish exactly the same packages.
type Environments map[string][]string

// ServingSource is one record of which build each environment serves: the
// published APT tree, aptly's database, the ledger (internal/ledger, once
// it exists). GC keeps every build the sources agree an environment serves
// and refuses to run when a source cannot be read or the sources disagree,
// so that losing any one record never loses a served build.
type ServingSource interface {
	// SourceName names the source in messages ("published tree", "aptly
	// database", "ledger").
	SourceName() string
	// Environments reads the source. An error means it is missing or
	// unreadable; a source that exists and records nothing returns an
	// empty map.
	Environments(ctx context.Context) (Environments, error)
}

// ServingFunc adapts a function to ServingSource.
type ServingFunc struct {
	Name string
	Func func(ctx context.Context) (Environments, error)
}

// SourceName implements ServingSource.
func (f ServingFunc) SourceName() string { return f.Name }

// Environments implements ServingSource.
func (f ServingFunc) Environments(ctx context.Context) (Environments, error) { return f.Func(ctx) }

// Served reads every source and checks that they agree: the same
// environments, and for each environment at least one build that every
// source allows. It returns, per environment, the builds all sources allow
// (sorted). An unreadable source is returned as its error; a disagreement
// as ErrSourcesDisagree with every difference in the message.
func Served(ctx context.Context, sources []ServingSource) (Environments, error) {
	type view struct {
		name string
		envs Environments
	}
	var views []view
	for _, src := range sources {
		envs, err := src.Environments(ctx)
		if err != nil {
			return nil, fmt.Errorf("read what the environments serve from the %s: %w", src.SourceName(), err)
		}
		views = append(views, view{src.SourceName(), envs})
	}
	all := map[string]bool{}
	for _, v := range views {
		for env := range v.envs {
			all[env] = true
		}
	}
	names := make([]string, 0, len(all))
	for env := range all {
		names = append(names, env)
	}
	sort.Strings(names)
	out := Environments{}
	var diffs []string
	for _, env := range names {
		var common map[string]bool
		var says []string
		missing := false
		for _, v := range views {
			builds, ok := v.envs[env]
			if !ok {
				says = append(says, fmt.Sprintf("the %s does not publish it", v.name))
				missing = true
				continue
			}
			says = append(says, fmt.Sprintf("the %s says %s", v.name, describeBuilds(builds)))
			set := map[string]bool{}
			for _, b := range builds {
				if common == nil || common[b] {
					set[b] = true
				}
			}
			common = set
		}
		if missing || len(common) == 0 {
			diffs = append(diffs, fmt.Sprintf("%s: %s", env, strings.Join(says, ", ")))
			continue
		}
		var builds []string
		for b := range common {
			builds = append(builds, b)
		}
		sort.Strings(builds)
		out[env] = builds
	}
	if len(diffs) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrSourcesDisagree, strings.Join(diffs, "; "))
	}
	return out, nil
}

func describeBuilds(builds []string) string {
	switch len(builds) {
	case 0:
		return "packages that no build in the store has"
	case 1:
		return "build " + short(builds[0])
	}
	var s []string
	for _, b := range builds {
		s = append(s, short(b))
	}
	return "one of the builds " + strings.Join(s, ", ") + " (same packages)"
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// ServedBuilds inverts Served's result: build → the environments serving it
// (sorted).
func (e Environments) ServedBuilds() map[string][]string {
	out := map[string][]string{}
	for env, builds := range e {
		for _, b := range builds {
			out[b] = append(out[b], env)
		}
	}
	for _, v := range out {
		sort.Strings(v)
	}
	return out
}
