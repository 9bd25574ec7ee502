// reader.go reads sessionbridge sessions straight from Redis (layout v1,
// see proto/REDIS-LAYOUT.md) with the standard library only: it speaks
// RESP over net.Dial.  With go-redis or redigo the same lookups are GET
// then GET, and ZRANGEBYSCORE then MGET.
//
//	go run reader.go [-addr 127.0.0.1:6379] [-prefix sb:] session SID
//	go run reader.go [-addr ...] [-prefix ...] user SUBJECT
//
// Prints the session (or the user's sessions) as JSON; exits 1 when there
// is none.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

type conn struct {
	c net.Conn
	r *bufio.Reader
}

// do sends one command and reads its reply: a string, nil, an int64 or
// a []interface{}.
func (c *conn) do(args ...string) (interface{}, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.c.Write(b.Bytes()); err != nil {
		return nil, err
	}
	return c.read()
}

func (c *conn) read() (interface{}, error) {
	line, err := c.r.ReadString('\n')
	if err != nil || len(line) < 3 {
		return nil, fmt.Errorf("bad reply: %v", err)
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return nil, fmt.Errorf("redis: %s", body)
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := readFull(c.r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, _ := strconv.Atoi(body)
		out := make([]interface{}, 0, n)
		for i := 0; i < n; i++ {
			v, err := c.read()
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown reply type %q", line[0])
}

func readFull(r *bufio.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// escape is the layout's subject escape: bytes outside A-Z a-z 0-9 - . _ ~
// @ + = become %XX.
func escape(s string) string {
	var b bytes.Buffer
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			bytes.IndexByte([]byte("-._~@+="), c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func decode(v interface{}) map[string]interface{} {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	d.UseNumber()
	var m map[string]interface{}
	if d.Decode(&m) != nil {
		return nil
	}
	return m
}

// session returns the canonical session of sid, or nil.
func session(c *conn, prefix, sid string) (interface{}, error) {
	tag, err := c.do("GET", prefix+"sid:"+sid)
	if err != nil || tag == nil {
		return nil, err
	}
	v, err := c.do("GET", prefix+"{"+tag.(string)+"}:sess:"+sid)
	if err != nil || v == nil {
		return nil, err
	}
	return decode(v), nil
}

// userSessions returns every live session of subject.
func userSessions(c *conn, prefix, subject string) ([]interface{}, error) {
	tag := "{u:" + escape(subject) + "}"
	now := strconv.FormatInt(time.Now().Unix(), 10)
	sids, err := c.do("ZRANGEBYSCORE", prefix+tag+":idx", "("+now, "+inf")
	if err != nil || len(sids.([]interface{})) == 0 {
		return nil, err
	}
	args := []string{"MGET"}
	for _, s := range sids.([]interface{}) {
		args = append(args, prefix+tag+":sess:"+s.(string))
	}
	vals, err := c.do(args...)
	if err != nil {
		return nil, err
	}
	var out []interface{}
	for _, v := range vals.([]interface{}) {
		if m := decode(v); m != nil {
			out = append(out, m)
		}
	}
	return out, nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "Redis host:port")
	prefix := flag.String("prefix", "sb:", "sessionbridge key prefix")
	flag.Parse()
	if flag.NArg() != 2 || (flag.Arg(0) != "session" && flag.Arg(0) != "user") {
		fmt.Fprintln(os.Stderr, "usage: reader [-addr A] [-prefix P] session SID | user SUBJECT")
		os.Exit(2)
	}
	nc, err := net.DialTimeout("tcp", *addr, 2*time.Second)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	c := &conn{nc, bufio.NewReader(nc)}
	if v, _ := c.do("GET", *prefix+"layout"); v != nil && v != "1" {
		fmt.Fprintln(os.Stderr, "unknown sessionbridge layout version")
		os.Exit(2)
	}
	var found interface{}
	n := 0
	if flag.Arg(0) == "session" {
		s, e := session(c, *prefix, flag.Arg(1))
		found, err = s, e
		if s != nil {
			n = 1
		}
	} else {
		l, e := userSessions(c, *prefix, flag.Arg(1))
		found, err, n = l, e, len(l)
		if l == nil {
			found = []interface{}{}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	out, _ := json.Marshal(found)
	fmt.Println(string(out))
	if n == 0 {
		os.Exit(1)
	}
}
