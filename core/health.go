package core

// health.go: judging what goes wrong while consuming. librdkafka retries
// transient errors itself; kafkars only turns into an exception what will
// not heal: a fatal client error, failed authentication or authorization,
// a topic that no longer exists, or brokers unreachable for longer than
// broker_down_timeout_ms. Everything else is noted (metrics: last_error,
// error_count) and consumption goes on.

import (
	"errors"
	"fmt"
	"time"

	"github.com/kafkars/kafkars/core/source"
)

// stallCheckAfter: when partitions that are not caught up have made no
// progress for this long, kafkars asks the cluster whether their topics
// still exist. librdkafka itself reports a deleted topic only after
// topic.metadata.propagation.max.ms (30 s by default), and until then a
// replay would just stall.
const stallCheckAfter = 2 * time.Second

// handleEventLocked judges an error the source reported while fetching.
// A "topic does not exist" event is only believed after asking the
// cluster, which takes a request: it is left to the engine goroutine
// (judgeTopicEvents), outside the locks. Called with mu.
func (e *Manager) handleEventLocked(ev KafkaEvent, now time.Time) {
	if errors.Is(ev.Err, source.ErrTopicNotFound) && ev.Partition >= 0 && e.probe != nil {
		e.deferred = append(e.deferred, ev)
	}
	text := e.eventText(ev)
	e.noteErrorLocked(text, now)
	switch {
	case errors.Is(ev.Err, source.ErrFatal):
		e.setFatalLocked(&Error{Kind: KindKafka, Msg: "fatal Kafka error: " + text, Cause: ev.Err})
	case errors.Is(ev.Err, source.ErrAuth):
		e.setFatalLocked(&Error{Kind: KindKafka, Msg: text, Cause: ev.Err})
	case errors.Is(ev.Err, source.ErrBrokerDown):
		if e.brokerDown.IsZero() {
			e.brokerDown = now
		}
	}
}

func (e *Manager) eventText(ev KafkaEvent) string {
	if ev.Err == nil {
		return e.partName(ev.Partition) + ": unknown error"
	}
	return e.partName(ev.Partition) + ": " + ev.Err.Error()
}

// judgeTopicEvents asks the cluster about topics an event said do not
// exist: only a definite "does not exist" is final. Engine goroutine, no
// locks held.
func (e *Manager) judgeTopicEvents(evs []KafkaEvent) {
	for _, ev := range evs {
		topic := e.parts[ev.Partition].Topic
		_, err := e.probe.Partitions(topic, 2*time.Second)
		if errors.Is(err, source.ErrTopicNotFound) {
			e.mu.Lock()
			e.setFatalLocked(&Error{Kind: KindTopicNotFound, Cause: ev.Err,
				Msg: fmt.Sprintf("topic %q no longer exists (deleted during the replay?): %s", topic, e.eventText(ev))})
			e.broadcastLocked()
			e.mu.Unlock()
			return
		}
	}
}

func (e *Manager) noteErrorLocked(text string, now time.Time) {
	e.lastErr = text
	e.lastErrAt = now
	e.errCount++
}

func (e *Manager) setFatalLocked(err error) {
	if e.fatal == nil {
		e.fatal = err
	}
}

func (e *Manager) partName(p int32) string {
	if p < 0 || int(p) >= len(e.parts) {
		return "consumer"
	}
	return fmt.Sprintf("%s [%d]", e.parts[p].Topic, e.parts[p].Partition)
}

func (e *Manager) caughtUpCount() int {
	n := 0
	for i := range e.m.parts {
		if e.m.parts[i].caughtUp {
			n++
		}
	}
	return n
}

// checkTopicsExist turns a topic deleted during the replay into
// TopicNotFound. Only a successful metadata answer that lacks the topic
// counts: an unreachable broker is not a deleted topic. Engine goroutine.
func (e *Manager) checkTopicsExist(now time.Time) {
	e.stallProbe = now
	existing, err := e.probe.ExistingTopics(time.Second)
	if err != nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range e.m.parts {
		p := &e.m.parts[i]
		if !p.caughtUp && !existing[p.info.Topic] {
			e.setFatalLocked(&Error{Kind: KindTopicNotFound, Msg: fmt.Sprintf(
				"topic %q no longer exists on %s (deleted during the replay?); %s [%d] stopped at offset %d of %d",
				p.info.Topic, e.opts.Servers(), p.info.Topic, p.info.Partition, p.lastOff, p.info.End)})
			e.broadcastLocked()
			return
		}
	}
}

// probeBroker clears the broker-down condition once a metadata request
// succeeds, and raises BrokerUnavailable past the configured limit.
// Engine goroutine.
func (e *Manager) probeBroker(now time.Time) {
	if now.Sub(e.probeAt) < time.Second || e.probe == nil || len(e.parts) == 0 {
		return
	}
	e.probeAt = now
	_, err := e.probe.Partitions(e.parts[0].Topic, 500*time.Millisecond)
	e.mu.Lock()
	defer e.mu.Unlock()
	if err == nil {
		e.brokerDown = time.Time{}
		return
	}
	if lim := e.opts.BrokerDown; lim > 0 && !e.brokerDown.IsZero() && now.Sub(e.brokerDown) > lim {
		e.setFatalLocked(&Error{Kind: KindBrokerUnavailable, Cause: err, Msg: fmt.Sprintf(
			"no broker of %s reachable for %s (broker_down_timeout_ms=%d); last error: %s",
			e.opts.Servers(), now.Sub(e.brokerDown).Round(time.Second),
			e.opts.BrokerDown.Milliseconds(), e.lastErr)})
		e.broadcastLocked()
	}
}
