// go_securecookie.go - the benchmark's peer: the stateless check a team
// would write in Go instead of asking the bridge.  net/http and
// gorilla/securecookie (Debian's packages), the JSON serializer, the same
// hash key as the bridge's gorilla profile; 200 with X-Session-Subject
// when the cookie verifies, else 401.  Nothing is asked of Redis, so a
// revoked session stays valid here until the cookie expires.
//
//	go_securecookie -key KEYFILE -cookie NAME -subject FIELD -port-file FILE
package main

import (
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/gorilla/securecookie"
)

func main() {
	keyFile := flag.String("key", "", "hash key file: one line, hex:<digits> or the raw key")
	cookieName := flag.String("cookie", "gsess", "cookie name")
	subject := flag.String("subject", "user_id", "the session field naming the user")
	portFile := flag.String("port-file", "", "where to write the port listened on")
	flag.Parse()

	raw, err := os.ReadFile(*keyFile)
	if err != nil {
		log.Fatal(err)
	}
	line := strings.SplitN(string(raw), "\n", 2)[0]
	key := []byte(line)
	if strings.HasPrefix(line, "hex:") {
		if key, err = hex.DecodeString(line[4:]); err != nil {
			log.Fatal(err)
		}
	}
	codec := securecookie.New(key, nil)
	codec.SetSerializer(securecookie.JSONEncoder{})

	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(*cookieName)
		if err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		values := map[string]interface{}{}
		if err := codec.Decode(*cookieName, c.Value, &values); err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("X-Session-Subject", fmt.Sprint(values[*subject]))
		w.WriteHeader(http.StatusOK)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := os.WriteFile(*portFile, []byte(fmt.Sprintf("%d\n", port)), 0o644); err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.Serve(ln, nil))
}
