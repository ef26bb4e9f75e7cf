package board

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// hub fans live updates out to the connected clients, at most max of
// them. A client too slow to take a message misses it (its buffer is
// full); the next message carries the verdicts again.
type hub struct {
	mu      sync.Mutex
	clients map[chan []byte]struct{}
	max     int
	closed  bool
}

func newHub(max int) *hub { return &hub{clients: map[chan []byte]struct{}{}, max: max} }

func (h *hub) subscribe() (chan []byte, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || len(h.clients) >= h.max {
		return nil, false
	}
	ch := make(chan []byte, 16)
	h.clients[ch] = struct{}{}
	return ch, true
}

func (h *hub) unsubscribe(ch chan []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.clients, ch)
}

func (h *hub) publish(msg []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.clients {
		select {
		case ch <- msg:
		default:
		}
	}
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	for ch := range h.clients {
		close(ch)
	}
	h.clients = map[chan []byte]struct{}{}
}

// Clients is how many live-update clients are connected.
func (b *Board) Clients() int {
	b.hub.mu.Lock()
	defer b.hub.mu.Unlock()
	return len(b.hub.clients)
}

// LiveVerdict is an environment's verdict in a live update.
type LiveVerdict struct {
	Env  string `json:"env"`
	Text string `json:"text"`
	Can  bool   `json:"can"`
	// Class is EnvSummary.Class.
	Class string `json:"class"`
}

// Live is the data of a live update: the new event (for "ledger"
// messages) and every environment's verdict.
type Live struct {
	Event    *EventView    `json:"event,omitempty"`
	Events   int           `json:"events"`
	Verdicts []LiveVerdict `json:"verdicts"`
}

func verdicts(o *Overview) []LiveVerdict {
	vs := []LiveVerdict{}
	for _, e := range o.Envs {
		vs = append(vs, LiveVerdict{Env: e.Env, Text: e.Text, Can: e.Can, Class: e.Class})
	}
	return vs
}

func sse(kind, id string, v interface{}) []byte {
	data, _ := json.Marshal(v) // plain data: cannot fail
	if id != "" {
		return []byte(fmt.Sprintf("id: %s\nevent: %s\ndata: %s\n\n", id, kind, data))
	}
	return []byte(fmt.Sprintf("event: %s\ndata: %s\n\n", kind, data))
}

func liveMessage(ev EventView, o *Overview) []byte {
	return sse("ledger", strconv.Itoa(ev.Seq), Live{Event: &ev, Events: o.Events, Verdicts: verdicts(o)})
}

func liveRefresh(o *Overview) []byte {
	return sse("refresh", "", Live{Events: o.Events, Verdicts: verdicts(o)})
}

// serveEvents is the live-update stream (GET /events, text/event-stream).
// A browser that reconnects sends Last-Event-ID: the events it missed are
// sent first. The stream ends after StreamFor (the browser reconnects at
// once), so it never outlives the server's write timeout.
func (b *Board) serveEvents(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ch, ok := b.hub.subscribe()
	if !ok {
		w.Header().Set("Retry-After", "5")
		http.Error(w, "too many live-update clients", http.StatusServiceUnavailable)
		return
	}
	defer b.hub.unsubscribe(ch)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 500\n\n")
	snap := b.current()
	if last, err := strconv.Atoi(r.Header.Get("Last-Event-ID")); err == nil {
		evs := snap.facts.Log.Events
		start := last + 1
		if start < len(evs)-100 {
			start = len(evs) - 100
		}
		for i := start; i >= 0 && i < len(evs); i++ {
			w.Write(liveMessage(eventView(evs[i]), snap.overview))
		}
	}
	fl.Flush()
	end := time.NewTimer(b.opts.StreamFor)
	defer end.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-end.C:
			return
		case msg, open := <-ch:
			if !open {
				return
			}
			if _, err := w.Write(msg); err != nil {
				return
			}
			fl.Flush()
		}
	}
}
