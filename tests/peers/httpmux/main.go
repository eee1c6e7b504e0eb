// httpmux is a test peer for vigil's HTTP sink: an HTTP receiver that routes
// as strictly as Go's net/http ServeMux does (Falcosidekick is a Go server
// with such a mux).  It serves POST on "/" exactly and on the -path given
// (a pattern as ServeMux takes it: "/falco/" is a subtree, whose bare
// "/falco" the mux answers with a redirect); every other path gets what the
// mux gives it: a 301 for a path it cleans ("//"), a 404 otherwise.
//
// Bodies: with Content-Type application/json, one JSON object (one alert,
// what Falcosidekick takes) or, with -batch, a JSON array of objects; with
// -batch, application/x-ndjson: one object per line.  Anything else is
// recorded as invalid.
//
// Each alert received is one line of -out:
//
//	{"path":...,"conn":C,"req":R,"kind":K,"alert":<object>}
//
// C numbers the TCP connection the request came on (1, 2, ... in accept
// order), R the request (1, 2, ... in arrival order), K is "object",
// "array" or "ndjson"; {"path":...,"conn":C,"req":R,"invalid":"..."} when
// the body is not what the content type says.  The first line on stdout is
// "listening HOST:PORT".
//
// On demand, to test a client's HTTP/1.1: -chunked answers with a chunked
// body (several chunks, no Content-Length); -close-every N answers every
// Nth request with "Connection: close" and closes the connection after it;
// -delay-ms D answers each request D ms after recording it (a slow receiver).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

type record struct {
	Path    string          `json:"path"`
	Conn    int64           `json:"conn"`
	Req     int64           `json:"req"`
	Kind    string          `json:"kind,omitempty"`
	Alert   json.RawMessage `json:"alert,omitempty"`
	Invalid string          `json:"invalid,omitempty"`
}

type connKey struct{}

// objects splits a body into the alerts it carries, by content type.
func objects(ctype string, body []byte, batch bool) (string, []json.RawMessage, string) {
	isObject := func(b []byte) bool {
		var obj map[string]json.RawMessage
		return json.Unmarshal(b, &obj) == nil
	}
	switch {
	case ctype == "application/json":
		t := bytes.TrimLeft(body, " \t\r\n")
		if batch && len(t) > 0 && t[0] == '[' {
			var arr []json.RawMessage
			if json.Unmarshal(body, &arr) != nil || len(arr) == 0 {
				return "", nil, "not a JSON array of objects"
			}
			for _, a := range arr {
				if !isObject(a) {
					return "", nil, "an array element is not a JSON object"
				}
			}
			return "array", arr, ""
		}
		if !isObject(body) {
			return "", nil, "not a JSON object"
		}
		return "object", []json.RawMessage{body}, ""
	case batch && ctype == "application/x-ndjson":
		var out []json.RawMessage
		lines := bytes.Split(body, []byte("\n"))
		if len(lines[len(lines)-1]) != 0 {
			return "", nil, "NDJSON without a final newline"
		}
		for _, l := range lines[:len(lines)-1] {
			if !isObject(l) {
				return "", nil, "an NDJSON line is not a JSON object"
			}
			out = append(out, json.RawMessage(append([]byte(nil), l...)))
		}
		if len(out) == 0 {
			return "", nil, "an empty NDJSON body"
		}
		return "ndjson", out, ""
	}
	return "", nil, "content type " + ctype
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	path := flag.String("path", "", "another pattern to serve besides \"/\"")
	out := flag.String("out", "", "file the received alerts are appended to")
	batch := flag.Bool("batch", false, "accept JSON arrays and NDJSON bodies")
	chunked := flag.Bool("chunked", false, "answer with a chunked body")
	closeEvery := flag.Int64("close-every", 0, "answer every Nth request with Connection: close")
	delay := flag.Int("delay-ms", 0, "wait this long before each answer")
	flag.Parse()

	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		log.Fatal(err)
	}
	var mu sync.Mutex
	w := bufio.NewWriter(f)
	var conns, reqs atomic.Int64

	receive := func(rw http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		n := reqs.Add(1)
		base := record{Path: r.URL.Path, Conn: r.Context().Value(connKey{}).(int64), Req: n}
		var recs []record
		if err != nil {
			base.Invalid = err.Error()
			recs = append(recs, base)
		} else if kind, alerts, why := objects(r.Header.Get("Content-Type"), body, *batch); why != "" {
			base.Invalid = why
			recs = append(recs, base)
		} else {
			for _, a := range alerts {
				rec := base
				rec.Kind = kind
				rec.Alert = a
				recs = append(recs, rec)
			}
		}
		mu.Lock()
		for _, rec := range recs {
			line, _ := json.Marshal(rec)
			w.Write(line)
			w.WriteString("\n")
		}
		w.Flush()
		mu.Unlock()
		time.Sleep(time.Duration(*delay) * time.Millisecond)
		if *closeEvery > 0 && n%*closeEvery == 0 {
			rw.Header().Set("Connection", "close")
		}
		if !*chunked {
			rw.WriteHeader(http.StatusOK)
			return
		}
		// no Content-Length and a flush between pieces: Go's server
		// sends Transfer-Encoding: chunked, one chunk per piece
		rw.Header().Set("Content-Type", "text/plain")
		rw.WriteHeader(http.StatusOK)
		fl := rw.(http.Flusher)
		for _, piece := range []string{"received ", fmt.Sprintf("%d alert(s)", len(recs)), "\n"} {
			io.WriteString(rw, piece)
			fl.Flush()
		}
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /{$}", receive)
	if *path != "" && *path != "/" {
		mux.HandleFunc("POST "+*path, receive)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{
		Handler: mux,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, conns.Add(1))
		},
	}
	fmt.Printf("listening %s\n", ln.Addr())
	os.Stdout.Sync()
	log.Fatal(srv.Serve(ln))
}
