package core

// group.go: commits, consumer groups and lag (docs/design.md, "Commits and
// consumer groups").
//
// What is committed is what the caller has been handed: per partition, the
// offset after the last row a poll returned, never a row held for ordering,
// in the batch built ahead, or in a remainder kept back by an until bound
// (returnedLocked). Rows of a partition whose consumer passed more than the
// rows it returned (control records, aborted transactions, late records
// dropped by policy) commit past those too, once nothing of the partition
// is held.
//
// Subscribe mode: the merger knows every partition of the subscribed topics
// from creation; the group protocol decides which ones this member owns.
// The rebalance callback runs inside the source's Fetch and only records
// the change; the engine handles it right after that Fetch, before the
// next one, holding fetchMu:
//
//   - Assigned: resolve each partition's start (committed offset, else the
//     topic's policy) and replay end (the end offset now), own it in the
//     merger, then assign it in the client (in that order: a record fetched
//     for a partition not yet owned would be dropped).
//   - Revoked: at once, the partitions stop releasing: held rows are
//     dropped, and so are their rows in the pre-built batch and a kept
//     remainder (the caller never gets them; the next owner reads them from
//     the committed offset); the frontier no longer waits for them. The
//     commit of what was returned, and the unassign that lets the group go
//     on, wait until the caller is done with the batch it holds: until it
//     polls again or commits (immediately when it holds none). A caller that
//     crashed while processing a batch therefore never has that batch
//     committed for it: at least once, across rebalances too.
//   - Lost: dropped the same way, nothing committed; the source has
//     already unassigned them.
//
// Locks: revMu serialises commits and the completion of revocations, so
// that commits reach the coordinator in the order their offsets were
// computed. Order: fetchMu, revMu, mu, pendMu.

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/kafkars/kafkars/core/source"
)

// GroupOptions connect a Manager to a consumer group (core/kafka fills
// them). The zero value: no group.
type GroupOptions struct {
	// Subscribe: the group protocol assigns the partitions; every
	// partition starts unowned.
	Subscribe bool
	// Resolve returns, for partitions just assigned, their start offsets,
	// replay ends and committed offsets (-1: none). Called by the engine
	// without locks other than fetchMu.
	Resolve func(parts []int32) (starts, ends, committed []int64, err error)
	// Committed are the committed offsets known at creation, per
	// partition (-1: none or unknown); nil when unknown.
	Committed []int64
	// GroupID is the group.id the user gave ("" when none: then nothing
	// can be committed).
	GroupID string
}

// revokeCommitTimeout bounds the commit made when partitions are revoked.
const revokeCommitTimeout = 10 * time.Second

// maxLogEvents bounds the log lines kept for the caller.
const maxLogEvents = 1000

// LogEvent is a line for the caller's log (Python's "kafkars" logger).
type LogEvent struct {
	Time  time.Time
	Level string // "info" or "warning"
	Msg   string
}

// Committed is one committed (or, asynchronously, requested) offset.
type Committed struct {
	Topic     string
	Partition int32
	Offset    int64
}

// groupState is the group side of a Manager (guarded by mu).
type groupState struct {
	// outstanding: a batch was returned and the caller has not come back
	// (poll or commit) since.
	outstanding bool
	// awaiting: subscribe mode before the first assignment.
	awaiting bool
	pending  []*revocation
	// committed is the last committed offset known per partition (-1:
	// unknown): read at creation or assignment, or committed by us.
	committed      []int64
	commits        int64
	commitFailures int64
	lastCommit     time.Time
	lastCommitErr  string
	rebalances     int64
	lostParts      int64
	lastRebalance  time.Time
	events         []LogEvent
	droppedEvents  int64
}

// revocation is a revoke whose commit and unassign wait for the caller.
type revocation struct {
	rb      *source.Rebalance
	offsets []int64 // per rb.Parts: what to commit, -1 for nothing
	ready   bool    // the caller held no batch, or came back since
	dropped int64   // rows of the partitions dropped unreturned at the revoke
}

// initGroup sets up the group state at creation.
func (e *Manager) initGroup(g GroupOptions) {
	e.gopts = g
	if c, ok := e.src.(source.Committer); ok {
		e.committer = c
	}
	if gs, ok := e.src.(source.Group); ok && g.Subscribe {
		e.group = gs
	}
	e.grp.committed = make([]int64, len(e.parts))
	for i := range e.grp.committed {
		e.grp.committed[i] = -1
		if i < len(g.Committed) {
			e.grp.committed[i] = g.Committed[i]
		}
	}
	e.tpIndex = map[string]map[int32]int32{}
	for i, p := range e.parts {
		if e.tpIndex[p.Topic] == nil {
			e.tpIndex[p.Topic] = map[int32]int32{}
		}
		e.tpIndex[p.Topic][p.Partition] = int32(i)
	}
	if g.Subscribe {
		e.grp.awaiting = true
		for i := range e.m.parts {
			e.m.Disown(int32(i))
		}
		e.m.Recompute()
	}
}

// logLocked keeps a line for the caller's log.
func (e *Manager) logLocked(level, format string, args ...any) {
	if len(e.grp.events) >= maxLogEvents {
		e.grp.events = e.grp.events[1:]
		e.grp.droppedEvents++
	}
	e.grp.events = append(e.grp.events, LogEvent{Time: time.Now(), Level: level, Msg: fmt.Sprintf(format, args...)})
}

// TakeEvents returns the log lines not taken yet, oldest first.
func (e *Manager) TakeEvents() (evs []LogEvent, err error) {
	defer e.catch("events", &err)
	e.mu.Lock()
	defer e.mu.Unlock()
	evs = e.grp.events
	e.grp.events = nil
	if e.grp.droppedEvents > 0 {
		evs = append([]LogEvent{{Time: time.Now(), Level: "warning", Msg: fmt.Sprintf("%d earlier log lines were dropped (nobody took them)", e.grp.droppedEvents)}}, evs...)
		e.grp.droppedEvents = 0
	}
	return evs, nil
}

// index returns the partition index of a row's topic and partition.
func (e *Manager) index(topic string, partition int32) (int32, bool) {
	i, ok := e.tpIndex[topic][partition]
	return i, ok
}

// returnedLocked returns, per partition, the last offset handed to the
// caller in the current ownership (-1: none): what the merger released,
// minus the rows of the pre-built batch and of a kept remainder. Called
// with mu.
func (e *Manager) returnedLocked() []int64 {
	out := make([]int64, len(e.m.parts))
	for i := range e.m.parts {
		out[i] = e.m.parts[i].released
	}
	if e.ready != nil && len(e.readyPrev) == len(out) {
		copy(out, e.readyPrev)
	}
	e.pendMu.Lock()
	if e.pending != nil {
		e.lowerBelowFirst(e.pending, out)
	}
	e.pendMu.Unlock()
	return out
}

// lowerBelowFirst lowers out[i] below the first row of partition i in rec
// (a batch not yet delivered).
func (e *Manager) lowerBelowFirst(rec arrow.RecordBatch, out []int64) {
	topics := rec.Column(2).(*array.String)
	partsCol := rec.Column(3).(*array.Int32)
	offs := rec.Column(4).(*array.Int64)
	seen := map[int32]bool{}
	for r := 0; r < int(rec.NumRows()); r++ {
		i, ok := e.index(topics.Value(r), partsCol.Value(r))
		if !ok || seen[i] {
			continue
		}
		seen[i] = true
		if o := offs.Value(r) - 1; o < out[i] {
			out[i] = o
		}
	}
}

// commitOffsetLocked is the offset to commit for partition i given what
// was returned (-1: nothing to commit). Called with mu.
func (e *Manager) commitOffsetLocked(i int, returned int64) int64 {
	p := &e.m.parts[i]
	if !p.owned || returned < 0 {
		return -1
	}
	off := returned + 1
	// Nothing of the partition is held or waiting for the caller: what the
	// consumer passed beyond the last returned row was never a row
	// (control records, aborted transactions, dropped late records).
	if p.q.n == 0 && returned == p.released && p.passed > off {
		off = p.passed
	}
	return off
}

// canCommit reports why offsets cannot be committed, nil if they can.
func (e *Manager) canCommit() error {
	if e.committer == nil {
		return &Error{Kind: KindConfig, Msg: "this manager's source cannot commit offsets"}
	}
	if e.gopts.GroupID == "" {
		return &Error{Kind: KindConfig, Msg: "commit() needs config['group.id']: the consumer group whose offsets to store " +
			"(kafkars' default group.id is random, so offsets committed under it could never be read back); " +
			"give group.id and read with SourceTopic.from_committed(...) to resume"}
	}
	return nil
}

// Commit stores, for every partition this member owns that has returned a
// row, the offset after the last returned row. Synchronous unless async
// (then the outcome shows in Metrics and the log). It first completes
// revocations waiting for the caller (committing is saying "done with what
// I was given"). It returns what it committed (or, async, requested), in
// partition order; nothing when no row was returned yet.
func (e *Manager) Commit(async bool, timeout time.Duration) (out []Committed, err error) {
	defer e.catch("commit", &err)
	e.revMu.Lock()
	defer e.revMu.Unlock()
	e.drainCommitResults()
	// one locked section: the caller is back (revocations waiting for it
	// may complete), and what it was returned
	var parts []int32
	var offs []int64
	e.mu.Lock()
	if err := e.usableLocked(); err != nil {
		e.mu.Unlock()
		return nil, err
	}
	if err := e.canCommit(); err != nil {
		e.mu.Unlock()
		return nil, err
	}
	e.callerBackLocked()
	revoking := len(e.grp.pending) > 0
	if !revoking {
		parts, offs = e.commitListLocked()
	}
	e.mu.Unlock()
	if revoking {
		e.finishRevokes(false)
		e.mu.Lock()
		parts, offs = e.commitListLocked()
		e.mu.Unlock()
	}
	if len(parts) == 0 {
		return nil, nil
	}
	out = make([]Committed, len(parts))
	for k, i := range parts {
		out[k] = Committed{Topic: e.parts[i].Topic, Partition: e.parts[i].Partition, Offset: offs[k]}
	}
	if async {
		if err := e.committer.CommitAsync(parts, offs); err != nil {
			return nil, e.commitError(err, nil, parts)
		}
		return out, nil
	}
	deadline := time.Now().Add(timeout)
	for {
		errs, reqErr := e.committer.Commit(parts, offs, max(time.Until(deadline), time.Millisecond))
		if rebalancing(errs, reqErr) && time.Until(deadline) > commitRetryWait {
			// A rebalance moved the group on while the commit was sent
			// (under the consumer protocol the member's epoch went stale):
			// librdkafka heartbeats at once but does not retry a manual
			// commit. Commit again, once caught up, what is still owned.
			time.Sleep(commitRetryWait)
			e.finishRevokes(false)
			e.mu.Lock()
			parts, offs = e.commitListLocked()
			e.mu.Unlock()
			if len(parts) == 0 {
				return nil, nil // revoked meanwhile: handed back, committed with it
			}
			out = out[:0]
			for k, i := range parts {
				out = append(out, Committed{Topic: e.parts[i].Topic, Partition: e.parts[i].Partition, Offset: offs[k]})
			}
			continue
		}
		e.mu.Lock()
		ok := e.recordCommitLocked(parts, offs, errs, reqErr)
		e.mu.Unlock()
		if !ok {
			return nil, e.commitError(reqErr, errs, parts)
		}
		return out, nil
	}
}

// commitRetryWait is how long a commit refused during a rebalance waits
// before it is sent again (within the caller's timeout).
const commitRetryWait = 100 * time.Millisecond

// rebalancing reports a commit refused because the group was rebalancing.
func rebalancing(errs []error, reqErr error) bool {
	if errors.Is(reqErr, source.ErrRebalancing) {
		return true
	}
	for _, err := range errs {
		if errors.Is(err, source.ErrRebalancing) {
			return true
		}
	}
	return false
}

// commitListLocked is what Commit stores: the partitions that returned a
// row, and their offsets. Called with mu.
func (e *Manager) commitListLocked() (parts []int32, offs []int64) {
	ret := e.returnedLocked()
	for i := range e.m.parts {
		if o := e.commitOffsetLocked(i, ret[i]); o >= 0 {
			parts = append(parts, int32(i))
			offs = append(offs, o)
		}
	}
	return parts, offs
}

// recordCommitLocked notes a commit's outcome; it reports success.
func (e *Manager) recordCommitLocked(parts []int32, offs []int64, errs []error, reqErr error) bool {
	ok := reqErr == nil
	for k, i := range parts {
		if k < len(errs) && errs[k] != nil {
			ok = false
			continue
		}
		if (reqErr == nil || errs != nil) && offs[k] > e.grp.committed[i] {
			e.grp.committed[i] = offs[k] // results of asynchronous commits may arrive late
		}
	}
	if ok {
		e.grp.commits++
		e.grp.lastCommit = time.Now()
		return true
	}
	e.grp.commitFailures++
	e.grp.lastCommitErr = e.commitError(reqErr, errs, parts).Error()
	return false
}

// commitError names what failed: the request, or the first partitions
// that failed (a deleted topic is TopicNotFound).
func (e *Manager) commitError(reqErr error, errs []error, parts []int32) error {
	var failed []string
	var first error
	for k, pe := range errs {
		if pe != nil {
			if first == nil {
				first = pe
			}
			if len(failed) < 5 {
				failed = append(failed, e.partName(parts[k]))
			}
		}
	}
	cause := reqErr
	if cause == nil {
		cause = first
	}
	if cause == nil {
		cause = errors.New("unknown error")
	}
	kind := KindKafka
	if errors.Is(cause, source.ErrTopicNotFound) {
		kind = KindTopicNotFound
	}
	msg := fmt.Sprintf("commit to group %q failed: %s", e.gopts.GroupID, cause.Error())
	if len(failed) > 0 {
		msg = fmt.Sprintf("commit to group %q failed for %s: %s", e.gopts.GroupID, strings.Join(failed, ", "), cause.Error())
		if kind == KindTopicNotFound {
			msg += " (was the topic deleted?)"
		}
	}
	return &Error{Kind: kind, Msg: msg, Cause: cause}
}

// drainCommitResults records the outcomes of asynchronous commits.
func (e *Manager) drainCommitResults() {
	if e.committer == nil {
		return
	}
	res := e.committer.CommitResults()
	if len(res) == 0 {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range res {
		if !e.recordCommitLocked(r.Parts, r.Offsets, r.Errs, r.Err) {
			e.logLocked("warning", "%s", e.grp.lastCommitErr)
		}
	}
}

// callerBackLocked: the caller polls or commits again, so it is done with
// the batch it held; revocations waiting for that may complete.
func (e *Manager) callerBackLocked() {
	e.grp.outstanding = false
	for _, r := range e.grp.pending {
		r.ready = true
	}
}

// enterPoll runs at the start of every poll.
func (e *Manager) enterPoll() {
	if e.group == nil {
		return
	}
	e.mu.Lock()
	e.callerBackLocked()
	n := len(e.grp.pending)
	e.mu.Unlock()
	if n > 0 {
		e.revMu.Lock()
		e.finishRevokes(false)
		e.revMu.Unlock()
	}
}

// finishRevokes commits what was returned of revoked partitions and hands
// them back to the group, for every revocation that is ready (all of them
// with closing, where only ready ones are committed). Called with revMu.
func (e *Manager) finishRevokes(closing bool) {
	e.mu.Lock()
	var todo []*revocation
	keep := e.grp.pending[:0]
	for _, r := range e.grp.pending {
		if r.ready || closing {
			todo = append(todo, r)
		} else {
			keep = append(keep, r)
		}
	}
	e.grp.pending = keep
	e.mu.Unlock()
	for _, r := range todo {
		var parts []int32
		var offs []int64
		if r.ready {
			for k, i := range r.rb.Parts {
				if r.offsets[k] >= 0 {
					parts = append(parts, i)
					offs = append(offs, r.offsets[k])
				}
			}
		}
		committed := ""
		if len(parts) > 0 && e.committer != nil && e.gopts.GroupID != "" {
			errs, reqErr := e.committer.Commit(parts, offs, revokeCommitTimeout)
			e.mu.Lock()
			if !e.recordCommitLocked(parts, offs, errs, reqErr) {
				e.logLocked("warning", "%s; the next owner re-reads the rows returned since the last commit", e.grp.lastCommitErr)
			} else {
				committed = "; committed " + e.offsetList(parts, offs)
			}
			e.mu.Unlock()
		}
		err := e.group.Apply(r.rb, nil)
		e.group.Release(r.rb)
		e.mu.Lock()
		if err != nil {
			e.noteErrorLocked("unassign: "+err.Error(), time.Now())
			e.logLocked("warning", "handing back revoked partitions failed: %v", err)
		}
		e.logLocked("info", "revoked %s (handed back %d ms after the group asked; %d rows dropped unreturned%s)",
			e.partList(r.rb.Parts), time.Since(r.rb.At).Milliseconds(), r.dropped, committed)
		e.mu.Unlock()
	}
}

// handleRebalances handles the group's assignment changes seen by the last
// Fetch. Called right after it, with fetchMu and no other lock.
func (e *Manager) handleRebalances() {
	if e.group == nil {
		return
	}
	evs := e.group.Rebalances()
	if len(evs) == 0 {
		return
	}
	for _, ev := range evs {
		switch ev.Kind {
		case source.Assigned:
			e.onAssigned(ev)
		case source.Revoked:
			e.onRevoked(ev, false)
		case source.Lost:
			e.onRevoked(ev, true)
		default:
			e.onRebalanceFailed(ev)
		}
	}
	e.mu.Lock()
	ready := false
	for _, r := range e.grp.pending {
		ready = ready || r.ready
	}
	e.mu.Unlock()
	if ready {
		e.revMu.Lock()
		e.finishRevokes(false)
		e.revMu.Unlock()
	}
}

func (e *Manager) onAssigned(ev *source.Rebalance) {
	var starts, ends, committed []int64
	var err error
	if len(ev.Parts) > 0 && e.gopts.Resolve != nil {
		starts, ends, committed, err = e.gopts.Resolve(ev.Parts)
	} else if len(ev.Parts) > 0 {
		err = errors.New("no way to resolve offsets")
	}
	now := time.Now()
	e.mu.Lock()
	first := e.grp.awaiting
	e.grp.awaiting = false
	e.grp.rebalances++
	e.grp.lastRebalance = ev.At
	if err != nil {
		e.setFatalLocked(&Error{Kind: KindKafka, Cause: err, Msg: fmt.Sprintf(
			"the group assigned %s, but their start offsets could not be resolved: %v", e.partList(ev.Parts), err)})
		e.logLocked("warning", "assigned %s: %v", e.partList(ev.Parts), err)
		e.broadcastLocked()
		e.mu.Unlock()
		_ = e.group.Apply(ev, nil)
		e.group.Release(ev)
		return
	}
	var desc []string
	for k, i := range ev.Parts {
		e.m.Own(i, starts[k], ends[k])
		if committed[k] >= 0 {
			e.grp.committed[i] = committed[k]
		} else {
			e.grp.committed[i] = -1
		}
		if e.ready != nil && int(i) < len(e.readyPrev) {
			e.readyPrev[i] = -1 // the pre-built batch has no row of it
		}
		from := "offset %d"
		if committed[k] >= 0 && committed[k] == starts[k] {
			from = "committed offset %d"
		}
		desc = append(desc, fmt.Sprintf("%s from "+from, e.partName(i), starts[k]))
	}
	e.m.Recompute()
	if len(ev.Parts) > 0 {
		e.logLocked("info", "assigned %d partition(s): %s", len(ev.Parts), strings.Join(desc, ", "))
	} else if first {
		e.logLocked("info", "joined the group: no partition assigned yet")
	}
	if len(ev.Unknown) > 0 {
		e.setFatalLocked(&Error{Kind: KindKafka, Msg: fmt.Sprintf(
			"the group assigned %s, which did not exist when this manager was created "+
				"(partitions added to a topic): create the manager again to consume them", strings.Join(ev.Unknown, ", "))})
		e.logLocked("warning", "assigned unknown partitions %s: create the manager again", strings.Join(ev.Unknown, ", "))
	}
	e.afterChangeLocked(now)
	e.mu.Unlock()
	if err := e.group.Apply(ev, starts); err != nil {
		e.mu.Lock()
		e.setFatalLocked(&Error{Kind: KindKafka, Cause: err, Msg: fmt.Sprintf("assigning %s failed: %v", e.partList(ev.Parts), err)})
		e.broadcastLocked()
		e.mu.Unlock()
	}
	// a pause set on a partition in an earlier ownership must not survive
	if len(ev.Parts) > 0 {
		_ = e.src.Resume(ev.Parts)
	}
	e.group.Release(ev)
}

func (e *Manager) onRevoked(ev *source.Rebalance, lost bool) {
	now := time.Now()
	e.mu.Lock()
	e.grp.rebalances++
	e.grp.lastRebalance = ev.At
	ret := e.returnedLocked()
	offs := make([]int64, len(ev.Parts))
	drop := make([]bool, len(e.m.parts))
	for k, i := range ev.Parts {
		offs[k] = -1
		if !lost {
			offs[k] = e.commitOffsetLocked(int(i), ret[i])
		}
		drop[i] = true
	}
	// rows of revoked partitions the caller has not received: never
	var dropped int64
	rows := func(r arrow.RecordBatch) int64 {
		if r == nil {
			return 0
		}
		return r.NumRows()
	}
	if e.ready != nil {
		n := rows(e.ready)
		e.ready = e.withoutPartitions(e.ready, drop)
		dropped += n - rows(e.ready)
	}
	e.pendMu.Lock()
	if e.pending != nil {
		n := rows(e.pending)
		e.pending = e.withoutPartitions(e.pending, drop)
		dropped += n - rows(e.pending)
	}
	e.pendMu.Unlock()
	var resume []int32
	for _, i := range ev.Parts {
		dropped += int64(e.m.parts[i].q.n)
		if e.m.Disown(i) {
			resume = append(resume, i)
		}
	}
	e.m.Recompute()
	if lost {
		// a revocation still waiting for the caller commits nothing for
		// them any more: another member may own them already
		for _, r := range e.grp.pending {
			for k, i := range r.rb.Parts {
				if drop[i] {
					r.offsets[k] = -1
				}
			}
		}
		e.grp.lostParts += int64(len(ev.Parts))
		e.logLocked("warning", "lost %s (the group gave them to another member: fenced or timed out); %d rows dropped unreturned, nothing committed for them",
			e.partList(ev.Parts), dropped)
	} else {
		e.grp.pending = append(e.grp.pending, &revocation{rb: ev, offsets: offs, ready: !e.grp.outstanding, dropped: dropped})
	}
	e.afterChangeLocked(now)
	e.mu.Unlock()
	if len(resume) > 0 {
		_ = e.src.Resume(resume)
	}
	if lost {
		e.group.Release(ev)
	}
}

func (e *Manager) onRebalanceFailed(ev *source.Rebalance) {
	// the source cleared the whole assignment: drop everything, commit nothing
	var owned []int32
	e.mu.Lock()
	for i := range e.m.parts {
		if e.m.parts[i].owned {
			owned = append(owned, int32(i))
		}
	}
	e.mu.Unlock()
	lost := &source.Rebalance{Kind: source.Lost, Parts: owned, At: ev.At, Ref: ev.Ref}
	e.onRevoked(lost, true)
	e.mu.Lock()
	e.noteErrorLocked(fmt.Sprintf("rebalance failed: %v", ev.Err), time.Now())
	e.mu.Unlock()
}

// withoutPartitions returns rec without the rows of partitions marked in
// drop (rec itself when it has none, nil when none remains). It takes
// ownership of rec.
func (e *Manager) withoutPartitions(rec arrow.RecordBatch, drop []bool) arrow.RecordBatch {
	topics := rec.Column(2).(*array.String)
	partsCol := rec.Column(3).(*array.Int32)
	n := int(rec.NumRows())
	var runs [][2]int64
	from, kept := -1, 0
	for r := 0; r < n; r++ {
		i, ok := e.index(topics.Value(r), partsCol.Value(r))
		keep := !ok || !drop[i]
		if keep {
			kept++
			if from < 0 {
				from = r
			}
		} else if from >= 0 {
			runs = append(runs, [2]int64{int64(from), int64(r)})
			from = -1
		}
	}
	if from >= 0 {
		runs = append(runs, [2]int64{int64(from), int64(n)})
	}
	if kept == n {
		return rec
	}
	defer rec.Release()
	if kept == 0 {
		return nil
	}
	return keepRuns(rec, runs, int64(kept), e.mem, "dropping the rows of revoked partitions")
}

// closeGroup, at Close: revocations still waiting are handed back (those
// the caller was done with are committed first).
func (e *Manager) closeGroup() {
	if e.group == nil {
		return
	}
	e.revMu.Lock()
	e.finishRevokes(true)
	e.revMu.Unlock()
}

func (e *Manager) ownedCountLocked() int {
	n := 0
	for i := range e.m.parts {
		if e.m.parts[i].owned {
			n++
		}
	}
	return n
}

// partList names partitions compactly: "t [0, 3, 4], u [1]".
func (e *Manager) partList(parts []int32) string {
	if len(parts) == 0 {
		return "no partitions"
	}
	byTopic := map[string][]int32{}
	var order []string
	for _, i := range parts {
		t := e.parts[i].Topic
		if byTopic[t] == nil {
			order = append(order, t)
		}
		byTopic[t] = append(byTopic[t], e.parts[i].Partition)
	}
	var out []string
	for _, t := range order {
		ps := byTopic[t]
		sort.Slice(ps, func(a, b int) bool { return ps[a] < ps[b] })
		s := make([]string, len(ps))
		for k, p := range ps {
			s[k] = fmt.Sprint(p)
		}
		out = append(out, fmt.Sprintf("%s [%s]", t, strings.Join(s, ", ")))
	}
	return strings.Join(out, ", ")
}

// offsetList names committed offsets: "t [0]@12, t [3]@40".
func (e *Manager) offsetList(parts []int32, offs []int64) string {
	s := make([]string, len(parts))
	for k, i := range parts {
		s[k] = fmt.Sprintf("%s@%d", e.partName(i), offs[k])
	}
	return strings.Join(s, ", ")
}

// PartitionLag is one row of Lag.
type PartitionLag struct {
	Topic     string
	Partition int32
	Assigned  bool
	Committed int64 // -1: unknown
	Position  int64 // -1: unknown
	End       int64 // -1: unknown
}

// LagRows returns, per partition, the committed offset known to this
// manager, the consumer's position and the log end offset the client last
// learned (no request).
func (e *Manager) LagRows() (rows []PartitionLag, err error) {
	defer e.catch("partition_lag", &err)
	e.drainCommitResults()
	ends := make([]int64, len(e.parts))
	for i := range ends {
		ends[i] = -1
	}
	if e.committer != nil {
		all := make([]int32, len(e.parts))
		for i := range all {
			all[i] = int32(i)
		}
		e.committer.EndOffsets(all, ends)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.usableLocked(); err != nil {
		return nil, err
	}
	rows = make([]PartitionLag, len(e.m.parts))
	for i := range e.m.parts {
		p := &e.m.parts[i]
		r := PartitionLag{Topic: p.info.Topic, Partition: p.info.Partition, Assigned: p.owned, Committed: -1, Position: -1, End: -1}
		if p.owned {
			r.Committed = e.grp.committed[i]
			r.Position = p.passed
			r.End = ends[i]
			if r.End < 0 {
				r.End = p.info.End // the end at creation or assignment: a lower bound
			}
			if r.End < r.Position {
				r.End = r.Position
			}
		}
		rows[i] = r
	}
	return rows, nil
}

// PartitionLagSchema is the schema of Lag.
var PartitionLagSchema = arrow.NewSchema([]arrow.Field{
	{Name: "topic", Type: arrow.BinaryTypes.String},
	{Name: "partition", Type: arrow.PrimitiveTypes.Int32},
	{Name: "committed_offset", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "position", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "end_offset", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "lag", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "lag_to_position", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "is_assigned", Type: arrow.FixedWidthTypes.Boolean},
}, nil)

// Lag returns LagRows as a batch with PartitionLagSchema: lag is
// end_offset - committed_offset, lag_to_position end_offset - position;
// null where a term is unknown (and for partitions not assigned to this
// member).
func (e *Manager) Lag() (arrow.RecordBatch, error) {
	rows, err := e.LagRows()
	if err != nil {
		return nil, err
	}
	b := array.NewRecordBuilder(e.mem, PartitionLagSchema)
	defer b.Release()
	b.Reserve(len(rows))
	opt := func(f int, v int64) {
		if v < 0 {
			b.Field(f).AppendNull()
		} else {
			b.Field(f).(*array.Int64Builder).Append(v)
		}
	}
	for _, r := range rows {
		b.Field(0).(*array.StringBuilder).Append(r.Topic)
		b.Field(1).(*array.Int32Builder).Append(r.Partition)
		opt(2, r.Committed)
		opt(3, r.Position)
		opt(4, r.End)
		lag, lagPos := int64(-1), int64(-1)
		if r.End >= 0 && r.Committed >= 0 {
			lag = max(r.End-r.Committed, 0)
		}
		if r.End >= 0 && r.Position >= 0 {
			lagPos = max(r.End-r.Position, 0)
		}
		opt(5, lag)
		opt(6, lagPos)
		b.Field(7).(*array.BooleanBuilder).Append(r.Assigned)
	}
	return b.NewRecordBatch(), nil
}
