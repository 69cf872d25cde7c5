// Package registry is a client for the REST API of a Confluent-compatible
// schema registry (Confluent Schema Registry, Apicurio Registry's ccompat
// API, Redpanda, Karapace). It implements decode.Registry: the decoders ask
// it for the schema behind the id in each record's Confluent framing.
//
// # What it does
//
// Three lookups, each cached for the life of the Client, so that decoding
// costs one HTTP request per new schema id and never one per record:
//
//	GET <url>/schemas/ids/{id}                    -> ByID
//	GET <url>/subjects/{subject}/versions/latest  -> Latest
//	GET <url>/subjects/{subject}/versions/{n}     -> Version
//
// Latest is cached too: a subject's "latest" can move on, but the engine
// resolves it once, when a consumer is created, to fix the Arrow type of a
// column, and a later version must not change a type already handed out.
// Records written with newer schemas still decode, because they are looked
// up by the id they carry.
//
// # Errors
//
// A schema id that the registry does not know (HTTP 404 with error code
// 40403) wraps decode.ErrMalformed: the id came from a record, so the record
// is what is wrong (a topic written against another registry, or garbage
// that happens to start with a zero byte), and the engine's malformed-record
// policy applies. Such answers are remembered for NotFoundTTL so that a
// topic full of them does not become one request per record.
// Everything else that goes wrong talking to the registry (no connection,
// timeout, 5xx, 401/403, a 404 without a Confluent error code, which means
// the URL is not the API's base) wraps decode.ErrRegistry and names the URL
// and what it answered. A subject or version that does not exist is a plain
// error naming it: it comes from the user's configuration, not from data.
//
// # Why not confluent-kafka-go's schemaregistry package
//
// That package is a complete client and its module (confluent-kafka-go
// v2.15.1) is already in our module graph, but it is a poor fit for a
// c-shared library loaded into Python. Measured on the capi package built
// as build.sh does (go build -buildmode=c-shared -tags dynamic -ldflags
// "-s -w"), with an exported function calling each client so that the
// linker keeps it:
//
//   - Size: libkafkars.so is 7.39 MB without a registry client, 11.47 MB
//     with this package (+4.1 MB, nearly all of it net/http and
//     crypto/tls, which any HTTPS client brings, since the library did
//     not link them before) and 13.64 MB with confluent-kafka-go's
//     (+6.2 MB).
//   - Dependencies: `go list -deps` of capi grows from 167 packages to
//     246 with this package (77 standard-library packages and two of
//     ours) and to 344 with confluent-kafka-go's: 77 non-standard
//     packages, 6 of them its own and 71 from 12 modules new to go.mod
//     (the Azure SDK's azcore,
//     azidentity and internal, Microsoft's MSAL, golang-jwt, google/uuid,
//     kylelemons/godebug, pkg/browser, golang.org/x/crypto, net, oauth2,
//     text), for Azure managed-identity and OAuth token fetching we do
//     not use, plus testing, go/types and os/exec from the standard
//     library.
//   - Behaviour: it does not remember a missing id, so a topic of records
//     framed for another registry would cost one request per record; its
//     errors (rest.Error with an HTTP status) would need translating into
//     ErrMalformed and ErrRegistry anyway; and a request that gets no
//     answer is retried 3 times per URL with random sleeps of up to 1, 2
//     and 4 s, on the goroutine that builds batches.
//
// What decoding needs is three GET requests and one JSON shape, so this
// package uses only the standard library.
//
// Not supported: mutual TLS (client certificates), OAuth token endpoints
// (pass a token you obtained as BearerToken), registry contexts, schema
// lookups by GUID, and writing to the registry.
package registry

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kafkars/kafkars/core/decode"
)

// Defaults of Config fields left at their zero value.
const (
	DefaultRequestTimeout = 10 * time.Second
	DefaultMaxRetries     = 2
	DefaultRetryWait      = 200 * time.Millisecond
	DefaultNotFoundTTL    = 30 * time.Second
)

// maxResponseBytes bounds what is read from one answer. Real schemas are
// kilobytes; a large Protobuf file set can reach a megabyte or two.
const maxResponseBytes = 16 << 20

// maxErrorBodyBytes bounds how much of an error answer is read and quoted.
const maxErrorBodyBytes = 4 << 10

// Config configures a Client. Only URL is required.
type Config struct {
	// URL is the base URL of the registry's API, e.g.
	// "http://registry:8081" or, for Apicurio,
	// "http://registry:8080/apis/ccompat/v7". Several URLs may be given,
	// comma-separated: each request tries them in order and moves on when
	// one cannot answer (no connection, timeout, 408, 429, 5xx). User
	// info in a URL ("https://user:pass@host") is used as basic auth when
	// BasicAuthUserInfo is empty, and is never quoted in errors.
	URL string
	// BasicAuthUserInfo is "user:password" for HTTP basic auth, as in the
	// basic.auth.user.info setting of Confluent's clients. Default "":
	// none (unless the URL carries user info).
	BasicAuthUserInfo string
	// BearerToken is sent as "Authorization: Bearer <token>". Default "":
	// none. Mutually exclusive with basic auth.
	BearerToken string
	// RequestTimeout bounds one HTTP request to one URL, from connecting
	// to reading the whole answer. Default DefaultRequestTimeout (10 s).
	RequestTimeout time.Duration
	// CAFile is a PEM file of CA certificates to trust for https URLs, in
	// addition to the system's roots. Default "": system roots only.
	CAFile string
	// MaxRetries is how many more rounds over the URL list a request
	// makes when no URL could answer, waiting RetryWait, then twice that,
	// and so on, in between. Answers such as 404 or 401 are final and
	// never retried. Default DefaultMaxRetries (2); -1 for no retries.
	MaxRetries int
	// RetryWait is the wait before the first retry. Default
	// DefaultRetryWait (200 ms).
	RetryWait time.Duration
	// NotFoundTTL is how long "schema id N does not exist" is remembered
	// before asking again. A record id unknown to the registry is almost
	// always permanent (the topic was written against another registry),
	// but a registry replica may lag behind the one a producer used.
	// Default DefaultNotFoundTTL (30 s); -1 to always ask again.
	NotFoundTTL time.Duration
}

// Client talks to one registry (possibly through several URLs) and caches
// what it learns. It is safe for concurrent use. The Schemas it returns are
// shared between callers and must not be modified.
type Client struct {
	bases       []string // base URLs without user info or trailing slash
	auth        string   // Authorization header value, or ""
	http        *http.Client
	transport   *http.Transport
	maxRetries  int
	retryWait   time.Duration
	notFoundTTL time.Duration
	// now is time.Now, replaceable in tests of NotFoundTTL.
	now func() time.Time

	requests atomic.Int64

	// fetchMu serialises requests, so that goroutines asking for the same
	// new id at once cause one request, not one each; cache hits only
	// take mu, so a slow registry never blocks them.
	fetchMu sync.Mutex
	mu      sync.RWMutex
	byID    map[int32]*decode.Schema
	missing map[int32]missingID
	byVer   map[subjectVersion]*decode.Schema
	latest  map[string]*decode.Schema
}

// missingID remembers the registry saying that an id does not exist.
type missingID struct {
	at  time.Time
	err error
}

type subjectVersion struct {
	subject string
	version int
}

var _ decode.Registry = (*Client)(nil)

// New checks cfg and returns a Client. It makes no request: an unreachable
// registry is reported by the first lookup.
func New(cfg Config) (*Client, error) {
	c := &Client{
		maxRetries:  cfg.MaxRetries,
		retryWait:   cfg.RetryWait,
		notFoundTTL: cfg.NotFoundTTL,
		now:         time.Now,
		byID:        make(map[int32]*decode.Schema),
		missing:     make(map[int32]missingID),
		byVer:       make(map[subjectVersion]*decode.Schema),
		latest:      make(map[string]*decode.Schema),
	}
	if c.maxRetries == 0 {
		c.maxRetries = DefaultMaxRetries
	} else if c.maxRetries < 0 {
		c.maxRetries = 0
	}
	if c.retryWait <= 0 {
		c.retryWait = DefaultRetryWait
	}
	if c.notFoundTTL == 0 {
		c.notFoundTTL = DefaultNotFoundTTL
	}
	timeout := cfg.RequestTimeout
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}

	var urlInfo string
	for _, raw := range strings.Split(cfg.URL, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // ue quotes the URL, password included
			}
			return nil, fmt.Errorf("registry URL %q: %v", redactRaw(raw), err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("registry URL %q: want http://host[:port][/path] or https://...", u.Redacted())
		}
		if u.User != nil {
			if info := u.User.String(); urlInfo == "" {
				urlInfo, _ = url.PathUnescape(info)
			}
			u.User = nil
		}
		u.RawQuery, u.Fragment = "", ""
		c.bases = append(c.bases, strings.TrimRight(u.String(), "/"))
	}
	if len(c.bases) == 0 {
		return nil, errors.New("registry URL is empty: set it to the registry's API base, e.g. http://registry:8081")
	}

	userInfo := cfg.BasicAuthUserInfo
	if userInfo == "" {
		userInfo = urlInfo
	}
	switch {
	case userInfo != "" && cfg.BearerToken != "":
		return nil, errors.New("registry: basic auth and a bearer token are both set; use one")
	case userInfo != "":
		if !strings.Contains(userInfo, ":") {
			return nil, errors.New(`registry basic auth: want "user:password" (no ':' found)`)
		}
		c.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(userInfo))
	case cfg.BearerToken != "":
		c.auth = "Bearer " + cfg.BearerToken
	}

	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("registry CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("registry CA file %s: no PEM certificate found in it", cfg.CAFile)
		}
		tlsConf.RootCAs = pool
	}
	c.transport = &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		TLSClientConfig:     tlsConf,
		TLSHandshakeTimeout: timeout,
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	c.http = &http.Client{Transport: c.transport, Timeout: timeout}
	return c, nil
}

// Requests returns how many HTTP requests the Client has sent (every
// attempt counts), for tests and metrics.
func (c *Client) Requests() int64 { return c.requests.Load() }

// Close releases idle connections. The Client stays usable.
func (c *Client) Close() { c.transport.CloseIdleConnections() }

// ByID returns the schema registered under id. An id the registry does not
// know is an error wrapping decode.ErrMalformed.
func (c *Client) ByID(id int32) (*decode.Schema, error) {
	if s, err, ok := c.cachedID(id); ok {
		return s, err
	}
	c.fetchMu.Lock()
	defer c.fetchMu.Unlock()
	if s, err, ok := c.cachedID(id); ok {
		return s, err // another goroutine fetched it while we waited
	}
	path := "/schemas/ids/" + strconv.FormatInt(int64(id), 10)
	body, base, err := c.get(path)
	var nf *notFound
	if errors.As(err, &nf) {
		if nf.code != 40403 {
			return nil, nf.registryError()
		}
		err = decode.Malformed(fmt.Sprintf("schema id %d not found in the registry at %s (%s)", id, base, nf.detail()))
		if c.notFoundTTL > 0 {
			c.mu.Lock()
			c.missing[id] = missingID{c.now(), err}
			c.mu.Unlock()
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	s, err := parseSchema(body)
	if err != nil {
		return nil, registryErr("GET %s%s: %v", base, path, err)
	}
	s.ID = id
	c.mu.Lock()
	c.byID[id] = s
	delete(c.missing, id)
	c.mu.Unlock()
	return s, nil
}

// cachedID reports a cached schema or a remembered "not found".
func (c *Client) cachedID(id int32) (*decode.Schema, error, bool) {
	c.mu.RLock()
	s := c.byID[id]
	m, missing := c.missing[id]
	c.mu.RUnlock()
	if s != nil {
		return s, nil, true
	}
	if missing && c.now().Sub(m.at) < c.notFoundTTL {
		return nil, m.err, true // the same error, no allocation
	}
	return nil, nil, false
}

// Latest returns the latest version of subject, cached for the life of the
// Client (see the package documentation for why).
func (c *Client) Latest(subject string) (*decode.Schema, error) {
	c.mu.RLock()
	s := c.latest[subject]
	c.mu.RUnlock()
	if s != nil {
		return s, nil
	}
	c.fetchMu.Lock()
	defer c.fetchMu.Unlock()
	c.mu.RLock()
	s = c.latest[subject]
	c.mu.RUnlock()
	if s != nil {
		return s, nil
	}
	s, err := c.fetchVersion(subject, "latest")
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.latest[subject] = s
	c.mu.Unlock()
	return s, nil
}

// Version returns version n of subject (n >= 1), cached for the life of
// the Client.
func (c *Client) Version(subject string, version int) (*decode.Schema, error) {
	if version < 1 {
		return nil, fmt.Errorf("registry: version %d of subject %q: versions start at 1", version, subject)
	}
	key := subjectVersion{subject, version}
	c.mu.RLock()
	s := c.byVer[key]
	c.mu.RUnlock()
	if s != nil {
		return s, nil
	}
	c.fetchMu.Lock()
	defer c.fetchMu.Unlock()
	c.mu.RLock()
	s = c.byVer[key]
	c.mu.RUnlock()
	if s != nil {
		return s, nil
	}
	return c.fetchVersion(subject, strconv.Itoa(version))
}

// fetchVersion asks for a subject's version ("latest" or a number) and
// caches the answer by (subject, version) and by id. Called with fetchMu
// held.
func (c *Client) fetchVersion(subject, version string) (*decode.Schema, error) {
	path := "/subjects/" + url.PathEscape(subject) + "/versions/" + version
	body, base, err := c.get(path)
	var nf *notFound
	if errors.As(err, &nf) {
		what := "version " + version + " of subject " + strconv.Quote(subject)
		if version == "latest" {
			what = "subject " + strconv.Quote(subject)
		}
		switch nf.code {
		case 40401:
			return nil, fmt.Errorf("subject %q not found in the registry at %s", subject, base)
		case 40402:
			return nil, fmt.Errorf("%s not found in the registry at %s", what, base)
		}
		return nil, nf.registryError()
	}
	if err != nil {
		return nil, err
	}
	s, err := parseSchema(body)
	if err == nil && s.ID == 0 {
		err = errors.New(`the answer has no "id"`)
	}
	if err == nil && s.Version < 1 {
		err = errors.New(`the answer has no "version"`)
	}
	if err != nil {
		return nil, registryErr("GET %s%s: %v", base, path, err)
	}
	if s.Subject == "" {
		s.Subject = subject
	}
	c.mu.Lock()
	c.byVer[subjectVersion{subject, s.Version}] = s
	if _, ok := c.byID[s.ID]; !ok {
		// The same schema as /schemas/ids/{id}: a later ByID costs nothing.
		byID := *s
		byID.Subject, byID.Version = "", 0
		c.byID[s.ID] = &byID
	}
	c.mu.Unlock()
	return s, nil
}

// schemaJSON is the answer of /schemas/ids/{id} and of
// /subjects/{subject}/versions/{version} (which adds subject, version, id).
type schemaJSON struct {
	Subject    string `json:"subject"`
	Version    int    `json:"version"`
	ID         int32  `json:"id"`
	SchemaType string `json:"schemaType"`
	Schema     string `json:"schema"`
	References []struct {
		Name    string `json:"name"`
		Subject string `json:"subject"`
		Version int    `json:"version"`
	} `json:"references"`
}

// parseSchema reads a schema answer. A missing schemaType means AVRO, as
// the registry omits it for Avro (its original and default format).
func parseSchema(body []byte) (*decode.Schema, error) {
	var j schemaJSON
	if err := json.Unmarshal(body, &j); err != nil {
		return nil, fmt.Errorf("invalid JSON answer: %v", err)
	}
	if j.Schema == "" {
		return nil, errors.New(`the answer has no "schema"`)
	}
	s := &decode.Schema{
		ID:      j.ID,
		Type:    strings.ToUpper(j.SchemaType),
		Text:    j.Schema,
		Subject: j.Subject,
		Version: j.Version,
	}
	if s.Type == "" {
		s.Type = "AVRO"
	}
	for i, r := range j.References {
		if r.Name == "" || r.Subject == "" || r.Version < 1 {
			return nil, fmt.Errorf("reference %d is incomplete: name %q, subject %q, version %d", i, r.Name, r.Subject, r.Version)
		}
		s.References = append(s.References, decode.Reference{Name: r.Name, Subject: r.Subject, Version: r.Version})
	}
	return s, nil
}

// notFound is an HTTP 404 answer, classified by the caller (a missing id is
// malformed data, a missing subject a configuration error, a 404 without a
// Confluent error code a wrong URL).
type notFound struct {
	url       string
	code      int  // Confluent error_code, or 404 when there was none
	confluent bool // the body was a Confluent error object
	message   string
}

func (e *notFound) Error() string { return e.registryError().Error() }

func (e *notFound) detail() string {
	if e.confluent {
		return fmt.Sprintf("error %d: %s", e.code, e.message)
	}
	return "HTTP 404: " + e.message
}

func (e *notFound) registryError() error {
	if !e.confluent {
		return registryErr("GET %s: HTTP 404 without a registry error code (is the URL the API's base? for Apicurio it ends in /apis/ccompat/v7): %s", e.url, e.message)
	}
	return registryErr("GET %s: HTTP 404, error %d: %s", e.url, e.code, e.message)
}

// errorJSON is the registry's error answer.
type errorJSON struct {
	ErrorCode int    `json:"error_code"`
	Message   string `json:"message"`
}

// describeError turns an error answer into text: the Confluent error code
// and message when the body is one, else the start of the body.
func describeError(body []byte) (code int, text string, confluent bool) {
	var e errorJSON
	if json.Unmarshal(body, &e) == nil && e.ErrorCode != 0 {
		return e.ErrorCode, e.Message, true
	}
	t := strings.Join(strings.Fields(string(body)), " ")
	if len(t) > 200 {
		t = t[:200] + "..."
	}
	if t == "" {
		t = "(empty body)"
	}
	return 0, t, false
}

func registryErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", decode.ErrRegistry, fmt.Sprintf(format, args...))
}

// retryable reports answers that mean "this server cannot answer now".
func retryable(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// get sends GET path to each base URL in turn until one gives a final
// answer, retrying the round MaxRetries times. It returns the body of a
// 2xx answer and the URL that gave it; a 404 as *notFound; anything else
// as an error wrapping decode.ErrRegistry that names every URL tried.
func (c *Client) get(path string) ([]byte, string, error) {
	return c.request(http.MethodGet, path, nil)
}

// request sends method path (with body, if any) to each URL in turn, in
// rounds, until one answers (see get).
func (c *Client) request(method, path string, payload []byte) ([]byte, string, error) {
	var failures []string
	wait := c.retryWait
	for round := 0; ; round++ {
		for _, base := range c.bases {
			body, final, err := c.requestOne(method, base, path, payload)
			if err == nil || final {
				return body, base, err
			}
			failures = append(failures, err.Error())
		}
		if round >= c.maxRetries {
			break
		}
		time.Sleep(wait)
		wait *= 2
	}
	tries := ""
	if c.maxRetries > 0 {
		tries = fmt.Sprintf(" (%d rounds)", c.maxRetries+1)
	}
	return nil, "", registryErr("%s %s: no answer from the registry%s: %s", method, path, tries, strings.Join(dedupe(failures), "; "))
}

// requestOne sends one request. final is true for answers that another URL or
// a retry would not change (2xx, 404, other 4xx); err then wraps
// ErrRegistry or is a *notFound.
func (c *Client) requestOne(method, base, path string, payload []byte) (body []byte, final bool, err error) {
	shown := base + path // path is escaped already
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequest(method, shown, rd)
	if err != nil {
		return nil, true, registryErr("%s %s: %v", method, shown, err)
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	}
	req.Header.Set("Accept", "application/vnd.schemaregistry.v1+json, application/json")
	req.Header.Set("User-Agent", "kafkars")
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	c.requests.Add(1)
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if ue != nil && ue.Timeout() {
			return nil, false, fmt.Errorf("%s: no answer within %v", shown, c.http.Timeout)
		}
		return nil, false, fmt.Errorf("%s: %v", shown, err)
	}
	defer resp.Body.Close()
	limit := int64(maxResponseBytes)
	if resp.StatusCode/100 != 2 {
		limit = maxErrorBodyBytes
	}
	body, err = io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, false, fmt.Errorf("%s: HTTP %d, reading the answer: %v", shown, resp.StatusCode, err)
	}
	switch {
	case resp.StatusCode/100 == 2:
		if len(body) > maxResponseBytes {
			return nil, true, registryErr("%s %s: answer larger than %d bytes", method, shown, maxResponseBytes)
		}
		return body, true, nil
	case resp.StatusCode == http.StatusNotFound:
		code, text, confluent := describeError(body)
		if !confluent {
			code = 404
		}
		return nil, true, &notFound{url: shown, code: code, confluent: confluent, message: text}
	case retryable(resp.StatusCode):
		_, text, _ := describeError(body)
		return nil, false, fmt.Errorf("%s: HTTP %d: %s", shown, resp.StatusCode, text)
	default:
		_, text, _ := describeError(body)
		hint := ""
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			hint = " (check the registry credentials)"
		}
		return nil, true, registryErr("%s %s: HTTP %d%s: %s", method, shown, resp.StatusCode, hint, text)
	}
}

// Register registers an Avro schema (JSON text) under subject and returns
// its id. A schema the subject already has is not added again: the
// registry answers with its id, so sending the same table twice leaves one
// version.
func (c *Client) Register(subject, schema string) (int32, error) {
	payload, err := json.Marshal(map[string]string{"schema": schema})
	if err != nil {
		return 0, err
	}
	path := "/subjects/" + url.PathEscape(subject) + "/versions"
	body, base, err := c.request(http.MethodPost, path, payload)
	var nf *notFound
	if errors.As(err, &nf) {
		return 0, registryErr("registering a schema under subject %q at %s: %s", subject, base, nf.message)
	}
	if err != nil {
		return 0, err
	}
	var out struct {
		ID *int32 `json:"id"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.ID == nil {
		return 0, registryErr("registering a schema under subject %q at %s: the answer has no schema id: %.200s", subject, base, body)
	}
	return *out.ID, nil
}

func dedupe(s []string) []string {
	out := s[:0]
	seen := make(map[string]bool, len(s))
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// redactRaw hides the password of a URL that did not parse.
func redactRaw(raw string) string {
	if at := strings.LastIndex(raw, "@"); at >= 0 {
		if scheme := strings.Index(raw, "://"); scheme >= 0 && scheme < at {
			return raw[:scheme+3] + "xxxxx" + raw[at:]
		}
	}
	return raw
}
