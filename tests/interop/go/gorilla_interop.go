// gorilla_interop.go - the Go side of tests/interop/test_go_rails.sh: makes
// and reads cookies with the real gorilla/securecookie and gorilla/sessions
// (Debian's packaged sources, built in GOPATH mode).
//
//	gorilla_interop mint   -pairs P -name N [-serializer json] [-store] VALUES
//	gorilla_interop decode -pairs P -name N [-serializer json] [-max-age S] TOKEN
//	gorilla_interop bench  -pairs P -name N [-serializer json] [-seconds S] TOKEN
//
// P is "hashhex[:blockhex],..." (the first pair encodes).  VALUES and the
// decode output are typed JSON: {"key":{"type":"<Go type>","value":...}},
// []uint8 as standard base64, maps as typed JSON again, nil as
// {"type":"nil"}.  mint -store saves through sessions.CookieStore and
// prints the Set-Cookie header; decode reads gob cookies through
// CookieStore.Get.  A failed decode prints "ERROR: <Go's error>", exit 1.
// bench times securecookie.DecodeMulti of TOKEN and EncodeMulti of its
// values (the peer numbers of tests/bench/bench_codec_gorilla_rails.c;
// run it with GOMAXPROCS=1).
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

type typed struct {
	Type  string          `json:"type"`
	Value json.RawMessage `json:"value,omitempty"`
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "gorilla_interop: "+format+"\n", args...)
	os.Exit(2)
}

// keyPairs parses "hashhex[:blockhex],...".
func keyPairs(spec string) [][]byte {
	var out [][]byte
	for _, pair := range strings.Split(spec, ",") {
		parts := strings.SplitN(pair, ":", 2)
		h, err := hex.DecodeString(parts[0])
		if err != nil {
			fail("bad hash key hex: %v", err)
		}
		var b []byte
		if len(parts) == 2 && parts[1] != "" {
			if b, err = hex.DecodeString(parts[1]); err != nil {
				fail("bad block key hex: %v", err)
			}
		}
		out = append(out, h, b)
	}
	return out
}

func number(raw json.RawMessage) json.Number {
	var n json.Number
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&n); err != nil {
		fail("bad number %s: %v", raw, err)
	}
	return n
}

func mustInt(raw json.RawMessage) int64 {
	var v int64
	if _, err := fmt.Sscan(number(raw).String(), &v); err != nil {
		fail("bad int %s", raw)
	}
	return v
}

func mustUint(raw json.RawMessage) uint64 {
	var v uint64
	if _, err := fmt.Sscan(number(raw).String(), &v); err != nil {
		fail("bad uint %s", raw)
	}
	return v
}

// fromTyped builds the Go value a typed JSON value describes.
func fromTyped(t typed) interface{} {
	switch t.Type {
	case "nil":
		return nil
	case "string":
		var s string
		json.Unmarshal(t.Value, &s)
		return s
	case "bool":
		var b bool
		json.Unmarshal(t.Value, &b)
		return b
	case "int":
		return int(mustInt(t.Value))
	case "int8":
		return int8(mustInt(t.Value))
	case "int16":
		return int16(mustInt(t.Value))
	case "int32":
		return int32(mustInt(t.Value))
	case "int64":
		return mustInt(t.Value)
	case "uint":
		return uint(mustUint(t.Value))
	case "uint8":
		return uint8(mustUint(t.Value))
	case "uint16":
		return uint16(mustUint(t.Value))
	case "uint32":
		return uint32(mustUint(t.Value))
	case "uint64":
		return mustUint(t.Value)
	case "float64", "float32":
		var f float64
		json.Unmarshal(t.Value, &f)
		if t.Type == "float32" {
			return float32(f)
		}
		return f
	case "[]uint8":
		var s string
		json.Unmarshal(t.Value, &s)
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			fail("bad base64: %v", err)
		}
		return b
	case "[]string":
		var s []string
		json.Unmarshal(t.Value, &s)
		return s
	case "map[string]interface {}":
		var m map[string]typed
		if err := json.Unmarshal(t.Value, &m); err != nil {
			fail("bad map: %v", err)
		}
		out := map[string]interface{}{}
		for k, v := range m {
			out[k] = fromTyped(v)
		}
		return out
	}
	fail("unknown type %q", t.Type)
	return nil
}

// toTyped describes a Go value as typed JSON.
func toTyped(v interface{}) interface{} {
	if v == nil {
		return map[string]interface{}{"type": "nil"}
	}
	var val interface{} = v
	switch x := v.(type) {
	case []byte:
		val = base64.StdEncoding.EncodeToString(x)
	case map[string]interface{}:
		m := map[string]interface{}{}
		for k, e := range x {
			m[k] = toTyped(e)
		}
		val = m
	}
	return map[string]interface{}{"type": fmt.Sprintf("%T", v), "value": val}
}

func printTyped(values map[string]interface{}) {
	out := map[string]interface{}{}
	for k, v := range values {
		out[k] = toTyped(v)
	}
	b, err := json.Marshal(out)
	if err != nil {
		fail("%v", err)
	}
	fmt.Println(string(b))
}

func codecs(pairs [][]byte, serializer string, maxAge int) []securecookie.Codec {
	cs := securecookie.CodecsFromPairs(pairs...)
	for _, c := range cs {
		sc := c.(*securecookie.SecureCookie)
		if serializer == "json" {
			sc.SetSerializer(securecookie.JSONEncoder{})
		}
		if maxAge >= 0 {
			sc.MaxAge(maxAge)
		}
	}
	return cs
}

func main() {
	gob.Register(map[string]interface{}{})
	if len(os.Args) < 2 {
		fail("usage: mint|decode ...")
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	pairsSpec := fs.String("pairs", "", "hashhex[:blockhex],...")
	name := fs.String("name", "session", "cookie (session) name")
	serializer := fs.String("serializer", "gob", "gob or json")
	store := fs.Bool("store", false, "mint through sessions.CookieStore")
	maxAge := fs.Int("max-age", -1, "codec MaxAge (default: securecookie's)")
	seconds := fs.Float64("seconds", 1, "bench: seconds per measurement")
	fs.Parse(os.Args[2:])
	if fs.NArg() != 1 || *pairsSpec == "" {
		fail("need -pairs and one argument")
	}
	pairs := keyPairs(*pairsSpec)
	arg := fs.Arg(0)

	switch os.Args[1] {
	case "mint":
		var in map[string]typed
		if err := json.Unmarshal([]byte(arg), &in); err != nil {
			fail("bad values: %v", err)
		}
		if *store {
			st := sessions.NewCookieStore(pairs...)
			req := httptest.NewRequest("GET", "/", nil)
			s, _ := st.New(req, *name)
			for k, v := range in {
				s.Values[k] = fromTyped(v)
			}
			rec := httptest.NewRecorder()
			if err := s.Save(req, rec); err != nil {
				fail("save: %v", err)
			}
			fmt.Println(rec.Header().Get("Set-Cookie"))
			return
		}
		var token string
		var err error
		cs := codecs(pairs, *serializer, *maxAge)
		if *serializer == "json" {
			m := map[string]interface{}{}
			for k, v := range in {
				m[k] = fromTyped(v)
			}
			token, err = securecookie.EncodeMulti(*name, m, cs...)
		} else {
			m := map[interface{}]interface{}{}
			for k, v := range in {
				m[k] = fromTyped(v)
			}
			token, err = securecookie.EncodeMulti(*name, m, cs...)
		}
		if err != nil {
			fail("encode: %v", err)
		}
		fmt.Println(token)
	case "decode":
		values := map[string]interface{}{}
		if *serializer == "json" {
			err := securecookie.DecodeMulti(*name, arg, &values,
				codecs(pairs, "json", *maxAge)...)
			if err != nil {
				fmt.Println("ERROR:", err)
				os.Exit(1)
			}
		} else {
			st := sessions.NewCookieStore(pairs...)
			if *maxAge >= 0 {
				st.MaxAge(*maxAge)
			}
			req := httptest.NewRequest("GET", "/", nil)
			req.AddCookie(&http.Cookie{Name: *name, Value: arg})
			s, err := st.Get(req, *name)
			if err != nil {
				fmt.Println("ERROR:", err)
				os.Exit(1)
			}
			for k, v := range s.Values {
				ks, ok := k.(string)
				if !ok {
					fail("non-string key %v", k)
				}
				values[ks] = v
			}
		}
		printTyped(values)
	case "bench":
		cs := codecs(pairs, *serializer, 0)
		var dst interface{} = &map[interface{}]interface{}{}
		if *serializer == "json" {
			dst = &map[string]interface{}{}
		}
		ops := func(f func() error) float64 {
			n, start := 0, time.Now()
			for time.Since(start).Seconds() < *seconds {
				for i := 0; i < 64; i++ {
					if err := f(); err != nil {
						fail("bench: %v", err)
					}
				}
				n += 64
			}
			return float64(n) / time.Since(start).Seconds()
		}
		dec := ops(func() error { return securecookie.DecodeMulti(*name, arg, dst, cs...) })
		value := dst
		if m, ok := dst.(*map[interface{}]interface{}); ok {
			value = *m
		} else {
			value = *(dst.(*map[string]interface{}))
		}
		enc := ops(func() error { _, err := securecookie.EncodeMulti(*name, value, cs...); return err })
		fmt.Printf("securecookie decode %.0f ops/s, encode %.0f ops/s\n", dec, enc)
	default:
		fail("unknown command %q", os.Args[1])
	}
}
