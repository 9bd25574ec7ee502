// main.go - the "new" demo backend of the end-to-end migration: a small Go
// net/http app keeping its login in a gorilla/sessions CookieStore (gob),
// unaware of sessionbridge.  Same routes and answers as legacy_app.py:
//
//	POST /login   form or JSON {"user": ID}  -> 200 {"user_id": ID}
//	POST /logout                             -> 200 {}
//	GET  /me                                 -> 200 {"user_id", "cart", "cart_count"} | 401
//	POST /cart    form or JSON {"item": X}   -> 200 {"cart", "cart_count"} | 401
//	              (the last cartKeep items, comma-separated; cart_count
//	              counts every item added)
//	GET  /health                             -> 200
//
// Built in GOPATH mode against Debian's packaged gorilla sources:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o new_app main.go
//
// Usage: new_app -listen 127.0.0.1:PORT -hash-key-file F [-block-key-file F]
// (or NEW_LISTEN, NEW_HASH_KEY_FILE, NEW_BLOCK_KEY_FILE).  A key is the first
// line of its file, used as raw bytes (a block key must be 16, 24 or 32
// bytes: AES-128/192/256).  Keys are never printed.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gorilla/sessions"
)

const appName = "new"

// cookieName is the gorilla session name, which is also its cookie's name.
const cookieName = "gsession"

// cartKeep is how many items the cart keeps, so the cookie stays small.
const cartKeep = 5

type app struct {
	store *sessions.CookieStore
}

// readKey returns the first line of path as bytes.
func readKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && line == "" {
		return nil, fmt.Errorf("%s: empty key file", path)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return nil, fmt.Errorf("%s: empty key", path)
	}
	return []byte(line), nil
}

// answer writes a JSON body naming this app.
func answer(w http.ResponseWriter, status int, fields map[string]interface{}) {
	if fields == nil {
		fields = map[string]interface{}{}
	}
	fields["app"] = appName
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-App", appName)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(fields)
}

// field reads a non-empty string field from a form or a JSON object body.
func field(r *http.Request, name string) string {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var body map[string]interface{}
		if json.NewDecoder(r.Body).Decode(&body) != nil {
			return ""
		}
		s, _ := body[name].(string)
		return s
	}
	return r.PostFormValue(name)
}

// session returns the request's session; a missing, tampered or expired
// cookie gives a new empty one, as gorilla itself does.
func (a *app) session(r *http.Request) *sessions.Session {
	s, err := a.store.Get(r, cookieName)
	if err != nil {
		s, _ = a.store.New(r, cookieName)
		s.Values = map[interface{}]interface{}{}
		s.IsNew = true
	}
	return s
}

// user returns the logged-in user id of s, or "".
func user(s *sessions.Session) string {
	u, _ := s.Values["user_id"].(string)
	return u
}

// count reads an integer session value whatever integer type it came as.
func count(v interface{}) int {
	switch n := v.(type) {
	case int:
		return n
	case int64:
		return int(n)
	case float64:
		return int(n)
	}
	return 0
}

func (a *app) save(w http.ResponseWriter, r *http.Request, s *sessions.Session) bool {
	if err := s.Save(r, w); err != nil {
		log.Printf("new_app: saving the session: %v", err)
		answer(w, http.StatusInternalServerError, map[string]interface{}{"error": "session not saved"})
		return false
	}
	return true
}

func (a *app) login(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		answer(w, http.StatusMethodNotAllowed, nil)
		return
	}
	u := field(r, "user")
	if u == "" {
		answer(w, http.StatusBadRequest, map[string]interface{}{"error": "user missing"})
		return
	}
	s := a.session(r)
	s.Values = map[interface{}]interface{}{"user_id": u}
	if a.save(w, r, s) {
		answer(w, http.StatusOK, map[string]interface{}{"user_id": u})
	}
}

func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		answer(w, http.StatusMethodNotAllowed, nil)
		return
	}
	s := a.session(r)
	s.Values = map[interface{}]interface{}{}
	s.Options.MaxAge = -1
	if a.save(w, r, s) {
		answer(w, http.StatusOK, nil)
	}
}

func (a *app) me(w http.ResponseWriter, r *http.Request) {
	s := a.session(r)
	u := user(s)
	if u == "" {
		answer(w, http.StatusUnauthorized, map[string]interface{}{"error": "not logged in"})
		return
	}
	cart, _ := s.Values["cart"].(string)
	answer(w, http.StatusOK, map[string]interface{}{
		"user_id": u, "cart": cart, "cart_count": count(s.Values["cart_count"])})
}

func (a *app) cart(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		answer(w, http.StatusMethodNotAllowed, nil)
		return
	}
	s := a.session(r)
	u := user(s)
	if u == "" {
		answer(w, http.StatusUnauthorized, map[string]interface{}{"error": "not logged in"})
		return
	}
	item := field(r, "item")
	if item == "" {
		answer(w, http.StatusBadRequest, map[string]interface{}{"error": "item missing"})
		return
	}
	cart, _ := s.Values["cart"].(string)
	var items []string
	if cart != "" {
		items = strings.Split(cart, ",")
	}
	items = append(items, item)
	if len(items) > cartKeep {
		items = items[len(items)-cartKeep:]
	}
	cart = strings.Join(items, ",")
	n := count(s.Values["cart_count"]) + 1
	s.Values["cart"] = cart
	s.Values["cart_count"] = n
	if a.save(w, r, s) {
		answer(w, http.StatusOK, map[string]interface{}{"user_id": u, "cart": cart, "cart_count": n})
	}
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func main() {
	listen := flag.String("listen", env("NEW_LISTEN", ""), "host:port to listen on")
	hashFile := flag.String("hash-key-file", env("NEW_HASH_KEY_FILE", ""), "file holding the HMAC key")
	blockFile := flag.String("block-key-file", env("NEW_BLOCK_KEY_FILE", ""), "file holding the AES key (optional)")
	flag.Parse()
	if *listen == "" || *hashFile == "" {
		log.Fatal("new_app: -listen and -hash-key-file are required")
	}
	hashKey, err := readKey(*hashFile)
	if err != nil {
		log.Fatalf("new_app: %v", err)
	}
	var blockKey []byte
	if *blockFile != "" {
		if blockKey, err = readKey(*blockFile); err != nil {
			log.Fatalf("new_app: %v", err)
		}
		if n := len(blockKey); n != 16 && n != 24 && n != 32 {
			log.Fatalf("new_app: %s: a block key must be 16, 24 or 32 bytes, not %d", *blockFile, n)
		}
	}
	store := sessions.NewCookieStore(hashKey, blockKey)
	store.Options.HttpOnly = true
	store.Options.SameSite = http.SameSiteLaxMode
	a := &app{store: store}

	mux := http.NewServeMux()
	mux.HandleFunc("/login", a.login)
	mux.HandleFunc("/logout", a.logout)
	mux.HandleFunc("/me", a.me)
	mux.HandleFunc("/cart", a.cart)
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		answer(w, http.StatusOK, nil)
	})
	// IdleTimeout well above nginx's upstream keepalive_timeout (20 s), so
	// nginx, not the app, closes an idle kept-alive connection (else it
	// defaults to ReadHeaderTimeout and races nginx reusing it).
	srv := &http.Server{Addr: *listen, Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout: 60 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
