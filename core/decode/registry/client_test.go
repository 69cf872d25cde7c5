package registry

import (
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kafkars/kafkars/core/decode"
)

const avroText = `{"type":"record","name":"T","fields":[{"name":"a","type":"long"}]}`

// fakeRegistry answers like a Confluent-compatible registry from fixed
// tables; handler, when set, takes over entirely.
type fakeRegistry struct {
	ids      map[int32]string // id -> /schemas/ids/{id} answer
	versions map[string]string
	handler  http.HandlerFunc
	hits     atomic.Int64
	lastAuth atomic.Value // string
	lastPath atomic.Value // string: the escaped path of the last request
}

func (f *fakeRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.hits.Add(1)
	f.lastAuth.Store(r.Header.Get("Authorization"))
	f.lastPath.Store(r.URL.EscapedPath())
	if f.handler != nil {
		f.handler(w, r)
		return
	}
	p := strings.TrimPrefix(r.URL.EscapedPath(), "/api")
	if rest, ok := strings.CutPrefix(p, "/schemas/ids/"); ok {
		var id int32
		fmt.Sscan(rest, &id)
		if body, ok := f.ids[id]; ok {
			w.Write([]byte(body))
			return
		}
		w.WriteHeader(404)
		fmt.Fprintf(w, `{"error_code":40403,"message":"Schema %d not found"}`, id)
		return
	}
	if body, ok := f.versions[p]; ok {
		w.Write([]byte(body))
		return
	}
	if strings.HasPrefix(p, "/subjects/known/") {
		w.WriteHeader(404)
		w.Write([]byte(`{"error_code":40402,"message":"Version not found."}`))
		return
	}
	if strings.HasPrefix(p, "/subjects/") {
		w.WriteHeader(404)
		w.Write([]byte(`{"error_code":40401,"message":"Subject not found."}`))
		return
	}
	http.NotFound(w, r)
}

func newFake(t *testing.T) (*fakeRegistry, *httptest.Server) {
	t.Helper()
	f := &fakeRegistry{
		ids: map[int32]string{
			1: fmt.Sprintf(`{"schema":%q}`, avroText),
			2: `{"schema":"syntax = \"proto3\"; import \"other.proto\"; message M { other.O o = 1; }","schemaType":"PROTOBUF","references":[{"name":"other.proto","subject":"other","version":1}]}`,
			3: `{"schema":"{\"type\":\"object\"}","schemaType":"JSON"}`,
		},
		versions: map[string]string{
			"/subjects/known/versions/latest": fmt.Sprintf(`{"subject":"known","version":2,"id":7,"schema":%q}`, avroText),
			"/subjects/known/versions/1":      fmt.Sprintf(`{"subject":"known","version":1,"id":6,"schema":%q}`, avroText),
			"/subjects/a%2Fb%20c/versions/1":  fmt.Sprintf(`{"subject":"a/b c","version":1,"id":9,"schema":%q}`, avroText),
		},
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func newClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	if cfg.RetryWait == 0 {
		cfg.RetryWait = time.Millisecond
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestByID(t *testing.T) {
	f, srv := newFake(t)
	c := newClient(t, Config{URL: srv.URL + "/api/"})
	tests := []struct {
		id    int32
		typ   string
		refs  []decode.Reference
		start string
	}{
		{1, "AVRO", nil, `{"type":"record"`}, // schemaType omitted means Avro
		{2, "PROTOBUF", []decode.Reference{{Name: "other.proto", Subject: "other", Version: 1}}, "syntax"},
		{3, "JSON", nil, `{"type":"object"}`},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			s, err := c.ByID(tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if s.ID != tt.id || s.Type != tt.typ || !strings.HasPrefix(s.Text, tt.start) || fmt.Sprint(s.References) != fmt.Sprint(tt.refs) {
				t.Fatalf("got %+v", s)
			}
			if s.Subject != "" || s.Version != 0 {
				t.Fatalf("ByID must not invent a subject/version: %+v", s)
			}
		})
	}
	if got := f.lastPath.Load(); got != "/api/schemas/ids/3" {
		t.Fatalf("trailing slash of the base URL not handled: path %v", got)
	}
}

// TestCaching shows one request per new id and per subject version, never
// one per record.
func TestCaching(t *testing.T) {
	f, srv := newFake(t)
	c := newClient(t, Config{URL: srv.URL + "/api"})
	for i := 0; i < 1000; i++ { // "records" with three schema ids
		if _, err := c.ByID(int32(1 + i%3)); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.Requests(); n != 3 || f.hits.Load() != 3 {
		t.Fatalf("1000 lookups of 3 ids: %d requests counted, %d served; want 3", n, f.hits.Load())
	}

	latest, err := c.Latest("known")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := c.Latest("known")
	if latest != again || latest.Version != 2 || latest.ID != 7 || latest.Subject != "known" {
		t.Fatalf("Latest: %+v then %+v", latest, again)
	}
	v2, _ := c.Version("known", 2) // learnt from Latest
	byID, _ := c.ByID(7)           // learnt from Latest
	if v2 == nil || v2.ID != 7 || byID == nil || byID.Text != avroText || byID.Version != 0 {
		t.Fatalf("Version 2 %+v, ByID(7) %+v", v2, byID)
	}
	for i := 0; i < 3; i++ {
		if v, err := c.Version("known", 1); err != nil || v.ID != 6 || v.Version != 1 {
			t.Fatalf("Version 1: %+v %v", v, err)
		}
	}
	if n := c.Requests(); n != 5 {
		t.Fatalf("after Latest x2, Version(2), ByID(7), Version(1) x3: %d requests, want 5", n)
	}
}

func TestConcurrentLookupsShareOneRequest(t *testing.T) {
	f, srv := newFake(t)
	release := make(chan struct{})
	f.handler = func(w http.ResponseWriter, r *http.Request) {
		<-release
		fmt.Fprintf(w, `{"schema":%q}`, avroText)
	}
	c := newClient(t, Config{URL: srv.URL})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.ByID(5)
			errs <- err
		}()
	}
	time.Sleep(50 * time.Millisecond) // let them all block on the first request
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := c.Requests(); n != 1 {
		t.Fatalf("8 goroutines asking for one new id: %d requests, want 1", n)
	}
}

func TestNotFoundTTL(t *testing.T) {
	_, srv := newFake(t)
	tests := []struct {
		name     string
		ttl      time.Duration
		advance  time.Duration
		requests int64
	}{
		{"remembered", 0, time.Second, 1}, // default TTL 30 s
		{"expired", time.Minute, 2 * time.Minute, 2},
		{"not cached", -1, 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, Config{URL: srv.URL + "/api", NotFoundTTL: tt.ttl})
			now := time.Unix(1000, 0)
			c.now = func() time.Time { return now }
			_, err1 := c.ByID(42)
			now = now.Add(tt.advance)
			_, err2 := c.ByID(42)
			for _, err := range []error{err1, err2} {
				if !errors.Is(err, decode.ErrMalformed) || errors.Is(err, decode.ErrRegistry) {
					t.Fatalf("want a malformed-record error, got %v", err)
				}
			}
			if c.Requests() != tt.requests {
				t.Fatalf("%d requests, want %d", c.Requests(), tt.requests)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	type kind int
	const (
		malformed kind = iota
		registry
		plain
	)
	tests := []struct {
		name     string
		handler  http.HandlerFunc // nil: the fake's tables
		call     func(c *Client) error
		kind     kind
		want     []string // substrings of the message
		requests int64
	}{
		{
			name: "unknown id",
			call: func(c *Client) error { _, err := c.ByID(42); return err },
			kind: malformed, requests: 1,
			want: []string{"schema id 42 not found in the registry at http://127.0.0.1:", "/api (error 40403: Schema 42 not found)"},
		},
		{
			name: "404 without error code: wrong base URL",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(404)
				w.Write([]byte("<html>Resource not found</html>"))
			},
			call: func(c *Client) error { _, err := c.ByID(1); return err },
			kind: registry, requests: 1,
			want: []string{"HTTP 404 without a registry error code", "/api/schemas/ids/1", "<html>Resource not found</html>"},
		},
		{
			name: "500 is retried then reported",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(500)
				w.Write([]byte(`{"error_code":50001,"message":"Error in the backend data store"}`))
			},
			call: func(c *Client) error { _, err := c.ByID(1); return err },
			kind: registry, requests: 3,
			want: []string{"no answer from the registry (3 rounds)", "/api/schemas/ids/1: HTTP 500: Error in the backend data store"},
		},
		{
			name: "401 is final",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(401)
				w.Write([]byte(`{"error_code":401,"message":"Unauthorized"}`))
			},
			call: func(c *Client) error { _, err := c.ByID(1); return err },
			kind: registry, requests: 1,
			want: []string{"HTTP 401 (check the registry credentials): Unauthorized"},
		},
		{
			name: "403 on a subject",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(403)
				w.Write([]byte("forbidden by proxy"))
			},
			call: func(c *Client) error { _, err := c.Latest("s"); return err },
			kind: registry, requests: 1,
			want: []string{"/api/subjects/s/versions/latest: HTTP 403 (check the registry credentials): forbidden by proxy"},
		},
		{
			name:    "invalid JSON",
			handler: func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"schema":`)) },
			call:    func(c *Client) error { _, err := c.ByID(1); return err },
			kind:    registry, requests: 1,
			want: []string{"/api/schemas/ids/1: invalid JSON answer"},
		},
		{
			name:    "answer without schema",
			handler: func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"schemaType":"AVRO"}`)) },
			call:    func(c *Client) error { _, err := c.ByID(1); return err },
			kind:    registry, requests: 1,
			want: []string{`the answer has no "schema"`},
		},
		{
			name:    "version answer without id",
			handler: func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, `{"version":1,"schema":%q}`, avroText) },
			call:    func(c *Client) error { _, err := c.Version("s", 1); return err },
			kind:    registry, requests: 1,
			want: []string{`the answer has no "id"`},
		},
		{
			name: "unknown subject",
			call: func(c *Client) error { _, err := c.Latest("nope"); return err },
			kind: plain, requests: 1,
			want: []string{`subject "nope" not found in the registry at http://127.0.0.1:`},
		},
		{
			name: "unknown version",
			call: func(c *Client) error { _, err := c.Version("known", 9); return err },
			kind: plain, requests: 1,
			want: []string{`version 9 of subject "known" not found in the registry at`},
		},
		{
			name: "version 0",
			call: func(c *Client) error { _, err := c.Version("known", 0); return err },
			kind: plain, requests: 0,
			want: []string{`version 0 of subject "known": versions start at 1`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFake(t)
			f.handler = tt.handler
			c := newClient(t, Config{URL: srv.URL + "/api"})
			err := tt.call(c)
			if err == nil {
				t.Fatal("no error")
			}
			isM, isR := errors.Is(err, decode.ErrMalformed), errors.Is(err, decode.ErrRegistry)
			switch {
			case tt.kind == malformed && (!isM || isR),
				tt.kind == registry && (!isR || isM),
				tt.kind == plain && (isR || isM):
				t.Fatalf("wrong error kind (malformed %v, registry %v): %v", isM, isR, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
			if c.Requests() != tt.requests || f.hits.Load() != tt.requests {
				t.Errorf("%d requests counted, %d served; want %d", c.Requests(), f.hits.Load(), tt.requests)
			}
		})
	}
}

func TestRetryRecovers(t *testing.T) {
	f, srv := newFake(t)
	var calls atomic.Int64
	f.handler = func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(503)
			return
		}
		fmt.Fprintf(w, `{"schema":%q}`, avroText)
	}
	c := newClient(t, Config{URL: srv.URL})
	if _, err := c.ByID(1); err != nil {
		t.Fatal(err)
	}
	if c.Requests() != 2 {
		t.Fatalf("%d requests, want 2 (503, then the retry)", c.Requests())
	}
}

func deadURL(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close() // nothing listens there any more
	return u
}

func TestURLList(t *testing.T) {
	_, good := newFake(t)
	dead := deadURL(t)

	c := newClient(t, Config{URL: dead + " , " + good.URL + "/api", MaxRetries: -1})
	if s, err := c.ByID(1); err != nil || s.Type != "AVRO" {
		t.Fatalf("dead URL first, then a good one: %+v %v", s, err)
	}
	if c.Requests() != 2 {
		t.Fatalf("%d requests, want 2", c.Requests())
	}

	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(503)
		w.Write([]byte("overloaded"))
	}))
	defer busy.Close()
	c = newClient(t, Config{URL: dead + "," + busy.URL, MaxRetries: 1})
	_, err := c.ByID(1)
	if !errors.Is(err, decode.ErrRegistry) {
		t.Fatalf("want a registry error, got %v", err)
	}
	for _, w := range []string{dead + "/schemas/ids/1: ", "connection refused", busy.URL + "/schemas/ids/1: HTTP 503: overloaded", "(2 rounds)"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q\ndoes not contain %q", err, w)
		}
	}
	if c.Requests() != 4 {
		t.Fatalf("2 URLs x 2 rounds: %d requests, want 4", c.Requests())
	}
}

func TestTimeout(t *testing.T) {
	stop := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stop:
		case <-time.After(5 * time.Second):
		}
	}))
	defer slow.Close()
	defer close(stop)
	c := newClient(t, Config{URL: slow.URL, RequestTimeout: 100 * time.Millisecond, MaxRetries: -1})
	began := time.Now()
	_, err := c.ByID(1)
	if !errors.Is(err, decode.ErrRegistry) || !strings.Contains(err.Error(), slow.URL+"/schemas/ids/1: no answer within 100ms") {
		t.Fatalf("want a registry timeout naming the URL, got %v", err)
	}
	if d := time.Since(began); d > 2*time.Second {
		t.Fatalf("timeout of 100ms took %v", d)
	}
}

func TestAuth(t *testing.T) {
	f, srv := newFake(t)
	hostURL := strings.TrimPrefix(srv.URL, "http://")
	basic := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name string
		cfg  Config
		want string // Authorization header
	}{
		{"none", Config{URL: srv.URL}, ""},
		{"basic", Config{URL: srv.URL, BasicAuthUserInfo: "user:p@ss:word"}, basic("user:p@ss:word")},
		{"from URL", Config{URL: "http://key:se%2Fcret@" + hostURL}, basic("key:se/cret")},
		{"config wins over URL", Config{URL: "http://a:b@" + hostURL, BasicAuthUserInfo: "c:d"}, basic("c:d")},
		{"bearer", Config{URL: srv.URL, BearerToken: "tok"}, "Bearer tok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, tt.cfg)
			if _, err := c.ByID(1); err != nil {
				t.Fatal(err)
			}
			if got := f.lastAuth.Load(); got != tt.want {
				t.Fatalf("Authorization %q, want %q", got, tt.want)
			}
		})
	}

	// A password in the URL never shows up in an error.
	f.handler = func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(401) }
	c := newClient(t, Config{URL: "http://key:topsecret@" + hostURL})
	_, err := c.ByID(1)
	if err == nil || strings.Contains(err.Error(), "topsecret") || !strings.Contains(err.Error(), "HTTP 401") {
		t.Fatalf("got %v", err)
	}
}

func TestNewRejects(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.txt")
	os.WriteFile(notPEM, []byte("hello"), 0o600)
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"empty", Config{URL: " , "}, "registry URL is empty"},
		{"scheme", Config{URL: "ftp://h/"}, `registry URL "ftp://h/": want http://`},
		{"no host", Config{URL: "http:///x"}, "want http://"},
		{"unparsable, password hidden", Config{URL: "http://u:secret@h:x y"}, `"http://xxxxx@h:x y"`},
		{"two auths", Config{URL: "http://h", BasicAuthUserInfo: "a:b", BearerToken: "t"}, "use one"},
		{"user info without colon", Config{URL: "http://h", BasicAuthUserInfo: "key"}, `want "user:password"`},
		{"missing CA file", Config{URL: "https://h", CAFile: filepath.Join(dir, "nope.pem")}, "nope.pem: no such file"},
		{"CA file without PEM", Config{URL: "https://h", CAFile: notPEM}, "ca.txt: no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("password leaked: %v", err)
			}
		})
	}
}

func TestTLS(t *testing.T) {
	f := &fakeRegistry{ids: map[int32]string{1: fmt.Sprintf(`{"schema":%q}`, avroText)}}
	srv := httptest.NewUnstartedServer(f)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake failure below is expected
	srv.StartTLS()
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, cert, 0o600); err != nil {
		t.Fatal(err)
	}

	c := newClient(t, Config{URL: srv.URL, CAFile: ca})
	if _, err := c.ByID(1); err != nil {
		t.Fatalf("with the CA file: %v", err)
	}
	c = newClient(t, Config{URL: srv.URL, MaxRetries: -1})
	_, err := c.ByID(1)
	if !errors.Is(err, decode.ErrRegistry) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without the CA file: want a certificate error, got %v", err)
	}
}

func TestSubjectIsEscaped(t *testing.T) {
	f, srv := newFake(t)
	c := newClient(t, Config{URL: srv.URL + "/api"})
	s, err := c.Version("a/b c", 1)
	if err != nil {
		t.Fatal(err)
	}
	if s.Subject != "a/b c" || s.ID != 9 || f.lastPath.Load() != "/api/subjects/a%2Fb%20c/versions/1" {
		t.Fatalf("got %+v, path %v", s, f.lastPath.Load())
	}
}

func TestParseSchema(t *testing.T) {
	tests := []struct {
		body string
		typ  string
		err  string
	}{
		{`{"schema":"x"}`, "AVRO", ""},
		{`{"schema":"x","schemaType":"protobuf"}`, "PROTOBUF", ""},
		{`{"schema":"x","schemaType":""}`, "AVRO", ""},
		{`{"schema":"x","references":[{"name":"a.proto","subject":"a"}]}`, "", "reference 0 is incomplete"},
		{`{"schema":""}`, "", `no "schema"`},
		{`[]`, "", "invalid JSON"},
		{`{"schema":"x","id":"seven"}`, "", "invalid JSON"},
	}
	for _, tt := range tests {
		s, err := parseSchema([]byte(tt.body))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: got %v, want an error containing %q", tt.body, err, tt.err)
			}
			continue
		}
		if err != nil || s.Type != tt.typ {
			t.Errorf("%s: got %+v, %v; want type %s", tt.body, s, err, tt.typ)
		}
	}
}

func FuzzParseSchema(f *testing.F) {
	for _, seed := range []string{
		`{"schema":"x"}`,
		`{"subject":"s","version":2,"id":7,"schema":"syntax","schemaType":"PROTOBUF","references":[{"name":"a.proto","subject":"a","version":1}]}`,
		`{"error_code":40403,"message":"Schema 1 not found"}`,
		`{"schema":null}`, `null`, `{"references":[null]}`, "",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := parseSchema(body)
		if err == nil {
			if s.Text == "" || s.Type == "" {
				t.Fatalf("accepted %q as %+v", body, s)
			}
			for _, r := range s.References {
				if r.Name == "" || r.Subject == "" || r.Version < 1 {
					t.Fatalf("accepted incomplete reference in %q: %+v", body, r)
				}
			}
		}
		code, text, confluent := describeError(body)
		if text == "" || len(text) > 4<<10 || confluent && code == 0 {
			t.Fatalf("describeError(%q) = %d, %q, %v", body, code, text, confluent)
		}
	})
}

func BenchmarkByIDCached(b *testing.B) {
	f := &fakeRegistry{ids: map[int32]string{1: fmt.Sprintf(`{"schema":%q}`, avroText)}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c, err := New(Config{URL: srv.URL})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.ByID(1); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.ByID(1); err != nil {
			b.Fatal(err)
		}
	}
	if c.Requests() != 1 {
		b.Fatalf("%d requests", c.Requests())
	}
}

func BenchmarkByIDCachedNotFound(b *testing.B) {
	f := &fakeRegistry{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c, err := New(Config{URL: srv.URL, NotFoundTTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := c.ByID(42); !errors.Is(err, decode.ErrMalformed) {
			b.Fatal(err)
		}
	}
	if c.Requests() != 1 {
		b.Fatalf("%d requests", c.Requests())
	}
}

func TestRegister(t *testing.T) {
	for _, c := range []struct {
		name    string
		status  int
		answer  string
		wantID  int32
		wantErr string
	}{
		{"new or known schema", 200, `{"id":42}`, 42, ""},
		{"incompatible", 409, `{"error_code":409,"message":"Schema being registered is incompatible with an earlier schema"}`, 0, "HTTP 409: Schema being registered is incompatible"},
		{"no id", 200, `{}`, 0, "the answer has no schema id"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, srv := newFake(t)
			var method, ctype string
			var body map[string]string
			f.handler = func(w http.ResponseWriter, r *http.Request) {
				method, ctype = r.Method, r.Header.Get("Content-Type")
				json.NewDecoder(r.Body).Decode(&body)
				w.WriteHeader(c.status)
				w.Write([]byte(c.answer))
			}
			cl := newClient(t, Config{URL: srv.URL + "/api"})
			id, err := cl.Register("trades.v1-value", avroText)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil || id != c.wantID {
				t.Fatalf("got %d, %v; want %d", id, err, c.wantID)
			}
			if method != "POST" || f.lastPath.Load() != "/api/subjects/trades.v1-value/versions" ||
				ctype != "application/vnd.schemaregistry.v1+json" || body["schema"] != avroText {
				t.Fatalf("request: %s %v, %q, %v", method, f.lastPath.Load(), ctype, body)
			}
		})
	}
}
