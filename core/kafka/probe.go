package kafka

// probe.go: a quick look at the bootstrap addresses before waiting on
// metadata. When every address refuses the TCP connection, nothing listens
// there and waiting startup_timeout_ms for librdkafka cannot help, so
// creation fails at once. Anything else (a connect that times out, a name
// that does not resolve, an address that accepts) is left to librdkafka,
// which waits up to startup_timeout_ms as before.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/kafkars/kafkars/core"
)

// maxProbe bounds the probe; it is also never longer than startup_timeout_ms.
const maxProbe = time.Second

// defaultPort is librdkafka's port for a bootstrap entry without one.
const defaultPort = "9092"

// parseBootstrap splits a bootstrap.servers (or metadata.broker.list) value
// into "host:port" dial addresses, the way librdkafka reads it: entries
// separated by commas or spaces, each [PROTOCOL://]host[:port], IPv6 hosts
// in brackets ("[::1]:9092"), port 9092 when omitted. ok is false when an
// entry cannot be read that way (then nothing is probed).
func parseBootstrap(list string) (addrs []string, ok bool) {
	entries := strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
	for _, e := range entries {
		if i := strings.Index(e, "://"); i >= 0 {
			e = e[i+3:]
		}
		var host, port string
		switch {
		case strings.HasPrefix(e, "["):
			end := strings.IndexByte(e, ']')
			if end < 0 {
				return nil, false
			}
			host, port = e[1:end], defaultPort
			switch rest := e[end+1:]; {
			case rest == "":
			case strings.HasPrefix(rest, ":"):
				port = rest[1:]
			default:
				return nil, false
			}
		case strings.Count(e, ":") == 0:
			host, port = e, defaultPort
		case strings.Count(e, ":") == 1:
			host, port, _ = strings.Cut(e, ":")
		default: // an IPv6 address without brackets: ambiguous
			return nil, false
		}
		if host == "" {
			return nil, false
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, false
		}
		addrs = append(addrs, net.JoinHostPort(host, port))
	}
	return addrs, len(addrs) > 0
}

// probeResult is what one bootstrap address answered.
type probeResult struct {
	addr    string   // as listed ("host:port")
	tried   []string // the resolved addresses dialled
	refused bool     // every resolved address refused the connection
	cause   error    // the first refusal
}

// probeAddr resolves addr and dials every resolved IP of the allowed
// families; refused is true only if each dial was refused.
func probeAddr(ctx context.Context, addr, family string) probeResult {
	res := probeResult{addr: addr}
	host, port, _ := net.SplitHostPort(addr)
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return res // a name that does not resolve (yet): librdkafka decides
	}
	var d net.Dialer
	for _, ip := range ips {
		if (family == "v4" && ip.IP.To4() == nil) || (family == "v6" && ip.IP.To4() != nil) {
			continue
		}
		target := net.JoinHostPort(ip.String(), port)
		res.tried = append(res.tried, target)
		conn, err := d.DialContext(ctx, "tcp", target)
		if err == nil {
			conn.Close()
			return res
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return res // timed out, unreachable network, ...
		}
		if res.cause == nil {
			res.cause = err
		}
	}
	res.refused = len(res.tried) > 0
	return res
}

// refusedEverywhere probes every bootstrap address at once, for at most
// min(maxProbe, timeout). It returns a BrokerUnavailable error naming each
// address when all of them refused the connection, else nil.
func refusedEverywhere(servers, family string, timeout time.Duration) error {
	addrs, ok := parseBootstrap(servers)
	if !ok {
		return nil
	}
	if timeout > maxProbe {
		timeout = maxProbe
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	results := make([]probeResult, len(addrs))
	var wg sync.WaitGroup
	for i, a := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = probeAddr(ctx, a, family)
		}()
	}
	wg.Wait()
	names := make([]string, len(results))
	for i, r := range results {
		if !r.refused {
			return nil
		}
		names[i] = r.addr
		if len(r.tried) > 1 || (len(r.tried) == 1 && r.tried[0] != r.addr) {
			names[i] += " (" + strings.Join(r.tried, ", ") + ")"
		}
	}
	return &core.Error{
		Kind:  core.KindBrokerUnavailable,
		Cause: results[0].cause,
		Msg: fmt.Sprintf("cannot reach Kafka at bootstrap.servers=%q: the connection was refused by %s: "+
			"nothing listens there (is the broker running, and is the address right?)",
			servers, strings.Join(names, ", ")),
	}
}
