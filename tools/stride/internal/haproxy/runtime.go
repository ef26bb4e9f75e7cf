package haproxy

import (
	"encoding/csv"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// Client talks to HAProxy's runtime API on its UNIX socket: one command
// per connection, the answer read to its end.
type Client struct {
	Socket string
}

// Do sends one command and returns the answer.
func (c *Client) Do(cmd string) (string, error) {
	conn, err := net.DialTimeout("unix", c.Socket, 2*time.Second)
	if err != nil {
		return "", fmt.Errorf("haproxy runtime API %s: %w", c.Socket, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, cmd+"\n"); err != nil {
		return "", fmt.Errorf("haproxy %q: %w", cmd, err)
	}
	out, err := io.ReadAll(conn)
	if err != nil {
		return "", fmt.Errorf("haproxy %q: %w", cmd, err)
	}
	return string(out), nil
}

// States a server can be set to.
const (
	Ready = "ready"
	Drain = "drain"
	Maint = "maint"
)

// SetState sets a server's administrative state (ready, drain, maint).
func (c *Client) SetState(backend, server, state string) error {
	out, err := c.Do(fmt.Sprintf("set server %s/%s state %s", backend, server, state))
	if err != nil {
		return err
	}
	if s := strings.TrimSpace(out); s != "" {
		return fmt.Errorf("haproxy: set server %s/%s state %s: %s", backend, server, state, s)
	}
	return nil
}

// Stat is one row of `show stat`: a frontend, backend or server.
type Stat struct {
	Proxy, Name string
	// Status: UP, DOWN, MAINT, DRAIN, "no check"... (servers), OPEN (frontends).
	Status string
	// Cur is the current sessions; Total the sessions so far.
	Cur, Total int64
	// ErrReq, ErrConn, ErrResp: request, connection and response errors;
	// Retries and Redispatches; Resp5xx the 5xx responses (HTTP).
	ErrReq, ErrConn, ErrResp, Retries, Redispatches, Resp5xx int64
}

// Errors is the sum of the counters that mean a request failed or had to
// be retried.
func (s Stat) Errors() int64 { return s.ErrReq + s.ErrConn + s.ErrResp + s.Resp5xx }

// Stats returns `show stat`.
func (c *Client) Stats() ([]Stat, error) {
	out, err := c.Do("show stat")
	if err != nil {
		return nil, err
	}
	return parseStats(out)
}

// parseStats reads `show stat`'s CSV, whose header line starts "# ".
func parseStats(out string) ([]Stat, error) {
	out = strings.TrimPrefix(out, "# ")
	r := csv.NewReader(strings.NewReader(out))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil || len(rows) == 0 || len(rows[0]) < 2 || rows[0][0] != "pxname" {
		return nil, fmt.Errorf("haproxy show stat: unexpected answer %.200q", out)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	get := func(row []string, name string) string {
		if i, ok := col[name]; ok && i < len(row) {
			return row[i]
		}
		return ""
	}
	num := func(row []string, name string) int64 {
		n, _ := strconv.ParseInt(get(row, name), 10, 64)
		return n
	}
	var stats []Stat
	for _, row := range rows[1:] {
		if len(row) < 2 {
			continue
		}
		stats = append(stats, Stat{Proxy: get(row, "pxname"), Name: get(row, "svname"), Status: get(row, "status"),
			Cur: num(row, "scur"), Total: num(row, "stot"), ErrReq: num(row, "ereq"), ErrConn: num(row, "econ"),
			ErrResp: num(row, "eresp"), Retries: num(row, "wretr"), Redispatches: num(row, "wredis"), Resp5xx: num(row, "hrsp_5xx")})
	}
	return stats, nil
}

// Server returns the row of backend/server.
func (c *Client) Server(backend, server string) (Stat, error) {
	stats, err := c.Stats()
	if err != nil {
		return Stat{}, err
	}
	for _, s := range stats {
		if s.Proxy == backend && s.Name == server {
			return s, nil
		}
	}
	return Stat{}, fmt.Errorf("haproxy has no server %s/%s", backend, server)
}
