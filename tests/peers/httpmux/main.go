// httpmux is a test peer for vigil's HTTP sink: an HTTP receiver that routes
// as strictly as Go's net/http ServeMux does (Falcosidekick is a Go server
// with such a mux).  It serves POST on "/" exactly and on the -path given
// (a pattern as ServeMux takes it: "/falco/" is a subtree, whose bare
// "/falco" the mux answers with a redirect); every other path gets what the
// mux gives it: a 301 for a path it cleans ("//"), a 404 otherwise.
//
// Each alert received is one line of -out: {"path":...,"alert":<body>}, or
// {"path":...,"invalid":"..."} when the body is not one JSON object.  The
// first line on stdout is "listening HOST:PORT".
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"sync"
)

type record struct {
	Path    string          `json:"path"`
	Alert   json.RawMessage `json:"alert,omitempty"`
	Invalid string          `json:"invalid,omitempty"`
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	path := flag.String("path", "", "another pattern to serve besides \"/\"")
	out := flag.String("out", "", "file the received alerts are appended to")
	flag.Parse()

	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		log.Fatal(err)
	}
	var mu sync.Mutex
	w := bufio.NewWriter(f)

	receive := func(rw http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		rec := record{Path: r.URL.Path}
		var obj map[string]json.RawMessage
		switch {
		case err != nil:
			rec.Invalid = err.Error()
		case r.Header.Get("Content-Type") != "application/json":
			rec.Invalid = "content type " + r.Header.Get("Content-Type")
		case json.Unmarshal(body, &obj) != nil:
			rec.Invalid = "not a JSON object"
		default:
			rec.Alert = body
		}
		line, _ := json.Marshal(rec)
		mu.Lock()
		w.Write(line)
		w.WriteString("\n")
		w.Flush()
		mu.Unlock()
		rw.WriteHeader(http.StatusOK)
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
	fmt.Printf("listening %s\n", ln.Addr())
	os.Stdout.Sync()
	log.Fatal(http.Serve(ln, mux))
}
