package env

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/strideci/monorepo/tools/stride/internal/haproxy"
)

// ReadStatus returns what environment name under root runs: the
// supervisor's status.json, checked against the supervisor being alive,
// with each instance's state in HAProxy and the newest deploy's record.
// An environment never brought up has Up false and no instances. The
// release board reads it.
func ReadStatus(root, name string) (*Status, error) {
	l, err := Open(root, name)
	if err != nil {
		return nil, err
	}
	return l.ReadStatus()
}

// ReadStatus is ReadStatus of this layout.
func (l *Layout) ReadStatus() (*Status, error) {
	st := &Status{Schema: StatusSchema, Env: l.Name, Instances: []Instance{}}
	if _, err := readJSON(l.Status(), st); err != nil {
		return nil, err
	}
	st.Env = l.Name
	pid, up := Up(l)
	st.Up = up
	if up {
		st.Supervisor = pid
	} else {
		st.Supervisor = 0
		st.Balancer.PID = 0
		for i := range st.Instances {
			if st.Instances[i].PID != 0 {
				st.Instances[i].State = "unknown (the supervisor is not running)"
			}
			st.Instances[i].PID = 0
		}
	}
	var spec Spec
	if _, err := readJSON(l.Spec(), &spec); err != nil {
		return nil, err
	}
	if len(spec.Services) > 0 {
		st.Balancer.Frontends = map[string]string{}
		for _, s := range spec.Services {
			st.Balancer.Frontends[s.Name] = fmt.Sprintf("127.0.0.1:%d", s.Port)
		}
	}
	if up {
		if stats, err := (&haproxy.Client{Socket: l.HAProxySocket()}).Stats(); err == nil {
			by := map[string]string{}
			for _, s := range stats {
				by[s.Proxy+"/"+s.Name] = s.Status
			}
			for i := range st.Instances {
				in := &st.Instances[i]
				in.Balancer = by[haproxy.Backend(in.Service)+"/"+haproxy.ServerName(in.Slot)]
			}
		}
	}
	var rec Record
	if ok, err := readJSON(l.Record(), &rec); err != nil {
		return nil, err
	} else if ok {
		st.Deploy = &rec
		switch rec.Phase {
		case PhaseDone:
			st.Build = rec.Build
		case PhaseFailed:
			st.Build = rec.From
		}
	}
	return st, nil
}

// List returns the environments that have a directory under root.
func List(root string) ([]string, error) {
	ents, err := os.ReadDir(root)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if e.IsDir() && nameRE.MatchString(e.Name()) {
			if _, err := os.Stat(filepath.Join(root, e.Name(), "env.json")); err == nil {
				names = append(names, e.Name())
			} else if _, err := os.Stat(filepath.Join(root, e.Name(), "status.json")); err == nil {
				names = append(names, e.Name())
			}
		}
	}
	sort.Strings(names)
	return names, nil
}
