package env

import (
	"fmt"
	"sort"
	"strconv"
	"time"
)

// Spec is an environment's fixed shape (env.json): its services' ports.
// The deployer adds a service the first time a build brings it.
type Spec struct {
	Env string `json:"env"`
	// Instances is how many processes run each service.
	Instances int           `json:"instances"`
	Services  []ServiceSpec `json:"services"`
}

// ServiceSpec is one service's frontend port and its instances' ports.
type ServiceSpec struct {
	Name  string `json:"name"`
	Port  int    `json:"port"`
	Ports []int  `json:"instance_ports"`
}

// Service returns the service named name.
func (s *Spec) Service(name string) (*ServiceSpec, bool) {
	for i := range s.Services {
		if s.Services[i].Name == name {
			return &s.Services[i], true
		}
	}
	return nil, false
}

// Desired is what should run (desired.json), written by the deployer and
// carried out by the supervisor.
type Desired struct {
	Instances []Want `json:"instances"`
}

// Want is one instance as it should run.
type Want struct {
	Service string `json:"service"`
	Slot    int    `json:"slot"`
	Port    int    `json:"port"`
	// Version is the package version, Build the build it came with, Root
	// the directory the package is unpacked in.
	Version string `json:"version"`
	Build   string `json:"build"`
	Root    string `json:"root"`
	// Command and Env start it (Env is added to the supervisor's).
	Command []string `json:"command"`
	Env     []string `json:"env"`
}

// Key names an instance: "service/slot".
func (w Want) Key() string { return key(w.Service, w.Slot) }

// Find returns the wanted instance service/slot.
func (d *Desired) Find(service string, slot int) (Want, bool) {
	for _, w := range d.Instances {
		if w.Service == service && w.Slot == slot {
			return w, true
		}
	}
	return Want{}, false
}

// Set replaces (or adds) the instance w.
func (d *Desired) Set(w Want) {
	for i := range d.Instances {
		if d.Instances[i].Key() == w.Key() {
			d.Instances[i] = w
			return
		}
	}
	d.Instances = append(d.Instances, w)
}

// Instance states, as the supervisor reports them.
const (
	StateStarting = "starting" // started, not yet ready (the deployer checks readiness)
	StateRunning  = "running"
	StateStopping = "stopping"
	StateCrashed  = "crashed" // exited on its own; restarting after a back-off
)

// StatusSchema is the schema of status.json and of `stride env status --json`.
const StatusSchema = "stride.env-status/v1"

// Status is what the supervisor says runs (status.json), completed by
// ReadStatus with the balancer's view and the deploy record.
type Status struct {
	Schema string `json:"schema"`
	Env    string `json:"env"`
	// Up: the supervisor runs (checked by ReadStatus, not only written).
	Up         bool      `json:"up"`
	Supervisor int       `json:"supervisor_pid,omitempty"`
	Updated    time.Time `json:"updated"`
	// Balancer is HAProxy: its pid and each service's frontend address.
	Balancer Balancer `json:"balancer"`
	// Build is the build the last completed deploy installed.
	Build     string     `json:"build,omitempty"`
	Instances []Instance `json:"instances"`
	// Deploy is the newest deploy's record (in progress, interrupted, done
	// or failed).
	Deploy *Record `json:"deploy,omitempty"`
}

// Balancer is the state of the environment's HAProxy.
type Balancer struct {
	PID       int               `json:"pid,omitempty"`
	Frontends map[string]string `json:"frontends,omitempty"`
	Restarts  int               `json:"restarts"`
}

// Instance is one process of a service.
type Instance struct {
	Service string `json:"service"`
	Slot    int    `json:"slot"`
	Port    int    `json:"port"`
	Version string `json:"version"`
	Build   string `json:"build"`
	State   string `json:"state"`
	PID     int    `json:"pid,omitempty"`
	// Restarts counts the times it crashed (exited on its own) and was
	// started again by the supervisor.
	Restarts int       `json:"restarts"`
	LastExit string    `json:"last_exit,omitempty"`
	Since    time.Time `json:"since"`
	// Balancer is the server's state in HAProxy (UP, DOWN, DRAIN, MAINT),
	// filled in by ReadStatus.
	Balancer string `json:"balancer,omitempty"`
}

// Key names the instance: "service/slot".
func (i Instance) Key() string { return key(i.Service, i.Slot) }

// Deploy phases and slot phases.
const (
	PhaseRolling = "rolling"
	PhaseWatch   = "watching"
	PhaseDone    = "done"
	PhaseFailed  = "failed"

	SlotPending  = "pending"
	SlotDraining = "draining" // set to drain in HAProxy; waiting for its connections
	SlotStarting = "starting" // in maintenance; the old version stopped, the new one starting
	SlotDone     = "done"
	SlotFailed   = "failed" // the new version did not become ready; left in maintenance
	SlotSkipped  = "unchanged"
)

// Record is the progress of a deploy (deploy.json), written before each
// step so that an interrupted deploy says what it was doing and why an
// instance is drained; the next deploy finishes or undoes it.
type Record struct {
	Build  string `json:"build"`
	From   string `json:"from,omitempty"`
	Change string `json:"change,omitempty"`
	// By is who deploys (the pid and command, e.g. "stride env deploy (pid 42)").
	By       string       `json:"by"`
	Started  time.Time    `json:"started"`
	Finished time.Time    `json:"finished,omitempty"`
	Phase    string       `json:"phase"`
	Error    string       `json:"error,omitempty"`
	Slots    []SlotRecord `json:"slots"`
	// Resumed names the interrupted deploy this one took over.
	Resumed string `json:"resumed,omitempty"`
	// Timings of the deploy's parts (the benchmark reads them).
	Timings Timings `json:"timings"`
}

// SlotRecord is one instance's part of a deploy.
type SlotRecord struct {
	Service string `json:"service"`
	Slot    int    `json:"slot"`
	From    string `json:"from,omitempty"`
	To      string `json:"to"`
	Phase   string `json:"phase"`
	Detail  string `json:"detail,omitempty"`
}

// Timings are the summed durations of a deploy's parts.
type Timings struct {
	Install   time.Duration `json:"install_ns"`
	Drain     time.Duration `json:"drain_ns"`
	Start     time.Duration `json:"start_ns"` // stop the old process, start the new one
	Readiness time.Duration `json:"readiness_ns"`
	Watch     time.Duration `json:"watch_ns"`
	Total     time.Duration `json:"total_ns"`
}

func key(service string, slot int) string { return service + "/" + strconv.Itoa(slot) }

func sortInstances(in []Instance) {
	sort.Slice(in, func(i, j int) bool {
		if in[i].Service != in[j].Service {
			return in[i].Service < in[j].Service
		}
		return in[i].Slot < in[j].Slot
	})
}

// Summary says what a finished deploy did: "4 instances of 2 services run
// 7c1d0e2f3a4b in 3.1s (2 replaced, 2 unchanged; watched 10s)".
func (r *Record) Summary() string {
	replaced, unchanged := 0, 0
	services := map[string]bool{}
	for _, s := range r.Slots {
		services[s.Service] = true
		if s.Phase == SlotSkipped {
			unchanged++
		} else {
			replaced++
		}
	}
	s := fmt.Sprintf("%d instances of %d services run %s in %v (%d replaced, %d unchanged", len(r.Slots), len(services),
		short(r.Build), r.Timings.Total.Round(100*time.Millisecond), replaced, unchanged)
	if r.Timings.Watch > 0 {
		s += fmt.Sprintf("; watched %v", r.Timings.Watch.Round(100*time.Millisecond))
	}
	if r.Resumed != "" {
		s += "; took over the interrupted " + r.Resumed
	}
	return s + ")"
}
