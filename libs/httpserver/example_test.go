package httpserver_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/strideci/monorepo/libs/httpserver"
	"github.com/strideci/monorepo/libs/log"
)

func Example() {
	s := httpserver.New(httpserver.Config{
		Addr:   "127.0.0.1:0", // a free port
		Logger: log.New(os.Stderr, log.Options{Level: log.LevelWarn}),
	})
	s.Handle("/hello", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello, request", log.RequestID(r.Context()))
	}))
	if err := s.Listen(); err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error)
	go func() { done <- s.Run(ctx) }() // Run also stops on SIGTERM/SIGINT

	req, _ := http.NewRequest("GET", "http://"+s.Addr()+"/hello", nil)
	req.Header.Set("X-Request-Id", "abc")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(string(body))

	stop()
	fmt.Println("stopped:", <-done)
	// Output:
	// hello, request abc
	// stopped: <nil>
}
