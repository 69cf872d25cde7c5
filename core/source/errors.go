package source

import "errors"

// Error kinds a Source reports. A source wraps its own errors so that the
// engine can judge them with errors.Is (is the topic gone? is the broker
// unreachable?) while the cause, with the client's own code and text, stays
// in the chain for the message a user reads. The Kafka adapter maps
// librdkafka's codes onto these; scripted sources in tests use them
// directly.
var (
	// ErrBrokerDown: no connection to a broker (transport failure, all
	// brokers down, a bootstrap address that does not resolve). The
	// client retries by itself; it becomes an error for the user only
	// after broker_down_timeout_ms.
	ErrBrokerDown = errors.New("broker not reachable")
	// ErrTimedOut: a request got no answer in time.
	ErrTimedOut = errors.New("request timed out")
	// ErrTopicNotFound: a topic or partition the cluster says does not
	// exist. The engine asks the cluster again before it believes it.
	ErrTopicNotFound = errors.New("topic or partition does not exist")
	// ErrAuth: authentication or authorization failed; retrying will not
	// help.
	ErrAuth = errors.New("authentication or authorization failed")
	// ErrFatal: the client is unusable (librdkafka's fatal error).
	ErrFatal = errors.New("fatal client error")
	// ErrRebalancing: a group request found the member behind the group
	// (its epoch stale during a rebalance, or the rebalance in progress);
	// the same request may succeed once the member has caught up.
	ErrRebalancing = errors.New("the consumer group is rebalancing")
)
