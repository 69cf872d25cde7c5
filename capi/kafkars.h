/*
 * kafkars.h: the C ABI of libkafkars.so.
 *
 * libkafkars replays and tails Kafka topics and returns Arrow record batches
 * whose rows are in event-timestamp order across all partitions and topics.
 * This header is the whole interface; the Python package's cffi bindings are
 * generated from it and from nothing else.
 *
 * Conventions
 * -----------
 * Status:   every function that can fail returns an int32_t status:
 *           KAFKARS_OK (0) or one of the KAFKARS_ERR_* codes below.
 * Messages: such functions take `char **err` last. On failure, if err is
 *           not NULL, *err receives a NUL-terminated message allocated by
 *           the library that names the culprit (property, topic, partition,
 *           broker address); free it with kafkars_free_string(). On success
 *           *err is left untouched. err may always be NULL.
 * Params:   each parameter below is marked [in] (read during the call
 *           only), [out] (written by the library; the caller provides the
 *           storage) or [in,out]. An [out] pointer must not be NULL unless
 *           its description says "may be NULL": a NULL one is reported as
 *           KAFKARS_ERR_CONFIG naming the parameter, never a crash.
 * Handles:  a manager, a producer and a send are each a kafkars_handle
 *           (never 0). Handles are not reused. After the close function
 *           of a handle every call on it returns KAFKARS_ERR_CLOSED,
 *           except close itself (returns OK).
 * Threads:  every function may be called from any thread. Calls on
 *           different managers run in parallel; calls on one manager are
 *           safe (concurrent polls each get distinct rows).
 * Blocking: only kafkars_manager_new (bounded by startup_timeout_ms),
 *           kafkars_manager_poll, kafkars_manager_commit, kafkars_send_wait
 *           and kafkars_offsets (bounded by their timeouts) and
 *           kafkars_producer_close (see there) block.
 * Arrow:    batches cross as Arrow C Data Interface structs. The caller
 *           provides zero-initialised structs; the library fills them and
 *           the caller owns the result: it must call the struct's release
 *           callback (pyarrow's import does). Buffers live on the C heap,
 *           never in Go memory, and no Go pointer is kept by the caller.
 * Process:  one copy of the library per process (it holds a Go runtime);
 *           never dlclose() it; do not fork() after loading it (use spawn).
 * Strings:  input strings are read during the call only and not modified
 *           (parameters are `char *` rather than `const char *` only
 *           because the Go exporter cannot spell const).
 */
#ifndef KAFKARS_H_TYPES
#define KAFKARS_H_TYPES

#include <stddef.h>
#include <stdint.h>

/* Bumped on any incompatible change of this header, of the spec JSON
 * accepted by kafkars_manager_new() or of the JSON objects returned by
 * kafkars_manager_metrics() and kafkars_debug_counters(). Within one ABI
 * version those JSON objects only gain members: none is renamed, removed
 * or changes type. (2: kafkars_debug_counters returns a status; metrics
 * always carry last_error and fatal_error, null when empty.) */
#define KAFKARS_ABI_VERSION 2

/* Status codes. Stable: never renumbered. */
#define KAFKARS_OK 0
/* A bad argument or librdkafka property (unknown, invalid value, ...). */
#define KAFKARS_ERR_CONFIG 1
/* A topic does not exist (at creation, or deleted during the replay). */
#define KAFKARS_ERR_TOPIC_NOT_FOUND 2
/* No broker could be reached within the time allowed. */
#define KAFKARS_ERR_BROKER_UNAVAILABLE 3
/* Any other error reported by Kafka or librdkafka. */
#define KAFKARS_ERR_KAFKA 4
/* The manager was closed (or the handle never existed). */
#define KAFKARS_ERR_CLOSED 5
/* A bug in kafkars (a recovered panic, a broken invariant). */
#define KAFKARS_ERR_INTERNAL 6
/* A key or value could not be decoded: a malformed record under
 * on_error='raise' (the message names topic, partition, offset and cause),
 * or its schema could not be fetched from the registry. */
#define KAFKARS_ERR_DECODE 7
/* A record could not be written (refused by librdkafka, failed delivery,
 * or a value that cannot be sent such as a negative timestamp): the
 * message names the first such row by its index in the input, and why. */
#define KAFKARS_ERR_PRODUCE 8

/* Schemas for kafkars_schema(). */
#define KAFKARS_SCHEMA_MESSAGE 0              /* key, value, topic, partition, offset, timestamp */
#define KAFKARS_SCHEMA_MESSAGE_WITH_HEADERS 1 /* the same plus headers */
#define KAFKARS_SCHEMA_PARTITION_STATE 2 /* the nine columns of the Rust kafkars 0.0.8 */
#define KAFKARS_SCHEMA_PARTITION_STATS 3 /* topic, partition, held, late and malformed counts, ... */
#define KAFKARS_SCHEMA_PARTITION_LAG 4   /* kafkars_manager_lag() */

/* until_ms values for kafkars_manager_poll() and kafkars_manager_stream();
 * any value >= 0 is an epoch-millisecond timestamp. */
#define KAFKARS_UNTIL_NONE -2 /* no bound (plain poll) */
#define KAFKARS_UNTIL_LIVE -1 /* until the replay is live */

/* Bits of the mode argument of kafkars_manager_poll() and
 * kafkars_manager_stream(). */
#define KAFKARS_MODE_FOLLOW 1 /* with a time bound: read on past the replay end (live
                                 records) until a record at or after the bound, or the
                                 clock passes it. Without it, a time-bounded read ends
                                 at the replay end. */

/* Bits of kafkars_manager_poll()'s *out_flags. */
#define KAFKARS_FLAG_LIVE 1          /* the manager is live: every replay row was returned */
#define KAFKARS_FLAG_UNTIL_REACHED 2 /* nothing before until_ms will come */
#define KAFKARS_FLAG_EVENTS 4        /* log lines wait in kafkars_manager_events() */

/* Bits of the flags argument of kafkars_manager_commit(). */
#define KAFKARS_COMMIT_ASYNC 1 /* send the commit and return without waiting */

typedef uint64_t kafkars_handle;

/* Arrow C Data Interface, as specified by Apache Arrow (ABI-stable). */
#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE

#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4

struct ArrowSchema {
  const char* format;
  const char* name;
  const char* metadata;
  int64_t flags;
  int64_t n_children;
  struct ArrowSchema** children;
  struct ArrowSchema* dictionary;
  void (*release)(struct ArrowSchema*);
  void* private_data;
};

struct ArrowArray {
  int64_t length;
  int64_t null_count;
  int64_t offset;
  int64_t n_buffers;
  int64_t n_children;
  const void** buffers;
  struct ArrowArray** children;
  struct ArrowArray* dictionary;
  void (*release)(struct ArrowArray*);
  void* private_data;
};

#endif /* ARROW_C_DATA_INTERFACE */

#ifndef ARROW_C_STREAM_INTERFACE
#define ARROW_C_STREAM_INTERFACE

struct ArrowArrayStream {
  int (*get_schema)(struct ArrowArrayStream*, struct ArrowSchema* out);
  int (*get_next)(struct ArrowArrayStream*, struct ArrowArray* out);
  const char* (*get_last_error)(struct ArrowArrayStream*);
  void (*release)(struct ArrowArrayStream*);
  void* private_data;
};

#endif /* ARROW_C_STREAM_INTERFACE */

#endif /* KAFKARS_H_TYPES */

#if !defined(KAFKARS_NO_PROTOTYPES) && !defined(KAFKARS_H_PROTOTYPES)
#define KAFKARS_H_PROTOTYPES

#ifdef __cplusplus
extern "C" {
#endif

/* KAFKARS_ABI_VERSION the library was built with. */
int32_t kafkars_abi_version(void);

/* Library and librdkafka versions: static strings owned by the library,
 * valid for the life of the process; do not free. */
char *kafkars_version(void);
char *kafkars_librdkafka_version(void);

/*
 * Create a manager and connect. Blocks at most startup_timeout_ms.
 *
 *   spec_json [in]  spec_len bytes of UTF-8 JSON, no terminator needed:
 *     {"config": {"bootstrap.servers": "host:9092", ...},   librdkafka properties, string values
 *      "topics": [{"name": "t", "policy": "earliest"|"latest"|"relative_time"|"absolute_time"
 *                                         |"committed",
 *                  "time_ms": 0, "fallback": null}, ...],     rank = position in the list
 *      "cutoff_ms": null, "batch_size": 10000, "linger_ms": 5,
 *      "max_buffered_messages": 500000, "max_buffered_bytes": 67108864,
 *      "include_headers": false, "startup_timeout_ms": 15000,
 *      "broker_down_timeout_ms": 300000, "subscribe": false}
 *     Omitted or null members take the defaults shown; unknown members
 *     are an error. time_ms is milliseconds before now for relative_time,
 *     epoch milliseconds for absolute_time. "committed" starts each
 *     partition at the committed offset of config's group.id, and where
 *     there is none at "fallback" ("earliest" when omitted, "latest",
 *     "relative_time" or "absolute_time", the last two with time_ms);
 *     "fallback" with any other policy is an error. "subscribe": true lets
 *     the consumer group of config's group.id assign the partitions
 *     (docs/design.md, "Commits and consumer groups"); every topic then
 *     starts from the group's committed offsets, its policy applying where
 *     there is none. "committed" and "subscribe" need a non-empty
 *     group.id in config. Policy "offsets" reads offset ranges
 *     instead (docs/design.md, "Replay at scale"): the topic then has
 *     "ranges": [{"partition": p, "start": s, "stop": e}, ...] (the
 *     partitions not listed are not read; nothing at or past a stop is
 *     returned) and optionally "min_time_ms" (rows whose ordering
 *     timestamp is below it are not returned). Not NULL.
 *   out [out]  the new handle on success; untouched on failure.
 *
 * Resolves partitions and replay offsets (docs/design.md, "Creation"),
 * then starts consuming in the background.
 */
int32_t kafkars_manager_new(char *spec_json, size_t spec_len,
                            kafkars_handle *out, char **err);

/*
 * Next ordered batch (docs/design.md, "Batches").
 *
 *   h           [in]  a manager handle.
 *   timeout_ms  [in]  >= 0: the poll's timeout. The call returns as soon as
 *                     batch_size rows are releasable; otherwise, once a row
 *                     is releasable, after at most linger_ms more; otherwise
 *                     at timeout_ms with zero rows.
 *   max_wait_ms [in]  >= 0: bounds how long this one call blocks. Past it
 *                     the call returns zero rows although timeout_ms has not
 *                     passed, so a caller can wait in short slices (to
 *                     handle signals) by calling again with the remaining
 *                     timeout, without shortening linger. Pass a value
 *                     >= timeout_ms for a plain blocking call.
 *   until_ms    [in]  KAFKARS_UNTIL_NONE, KAFKARS_UNTIL_LIVE, or an epoch-ms
 *                     time T: rows with timestamp >= T are not returned; the
 *                     first such row and those after it are kept and
 *                     returned by the next call with another until_ms.
 *   mode        [in]  KAFKARS_MODE_* bits (0: none).
 *   out_array   [out] a zero-initialised struct. When *out_rows > 0 it holds
 *                     a struct array whose children are the columns of
 *                     kafkars_manager_schema(); the caller owns it and calls
 *                     its release. When *out_rows is 0 it is untouched.
 *   out_rows    [out] the number of rows (0 on failure).
 *   out_flags   [out] KAFKARS_FLAG_* bits; may be NULL. UNTIL_REACHED says
 *                     the bound is reached: for T, a row at or after T was
 *                     met, or the frontier passed T, or the replay end was
 *                     reached (with KAFKARS_MODE_FOLLOW instead: the clock
 *                     passed T while live); for KAFKARS_UNTIL_LIVE, the
 *                     manager is live.
 *
 * Rows buffered before an error are returned before the error is reported.
 */
int32_t kafkars_manager_poll(kafkars_handle h, int32_t timeout_ms,
                             int32_t max_wait_ms, int64_t until_ms,
                             uint32_t mode, struct ArrowArray *out_array,
                             int64_t *out_rows, uint32_t *out_flags,
                             char **err);

/*   h   [in]   a manager handle.
 *   out [out]  1 if the manager is live (every partition caught up and every
 *              replay row returned), else 0. */
int32_t kafkars_manager_is_live(kafkars_handle h, int32_t *out, char **err);

/*
 * Export the manager as an Arrow C stream (for DuckDB, polars, pyarrow)
 * that yields the non-empty batches of kafkars_manager_poll() with until_ms
 * and ends when the bound is reached.
 *
 *   h               [in]  a manager handle.
 *   until_ms        [in]  KAFKARS_UNTIL_LIVE or an epoch-ms time.
 *   mode            [in]  KAFKARS_MODE_* bits (0: none).
 *   idle_timeout_ms [in]  a get_next that waits longer than this for a batch
 *                         fails with an error instead of blocking for ever
 *                         (<= 0: one hour).
 *   out             [out] a zero-initialised struct; the caller owns the
 *                         stream and calls its release. The stream does not
 *                         keep the manager open: after
 *                         kafkars_manager_close(), get_next fails with the
 *                         closed error. A stream is read once: get_next
 *                         called again after it reported the end fails
 *                         with an error saying so.
 */
int32_t kafkars_manager_stream(kafkars_handle h, int64_t until_ms,
                               uint32_t mode, int32_t idle_timeout_ms,
                               struct ArrowArrayStream *out, char **err);

/*   h   [in]   a manager handle.
 *   out [out]  a zero-initialised struct: the schema of the manager's
 *              batches (with headers if requested); owned by the caller. */
int32_t kafkars_manager_schema(kafkars_handle h, struct ArrowSchema *out,
                               char **err);

/* Partition state: one row per partition, sorted by topic name then
 * partition, schema KAFKARS_SCHEMA_PARTITION_STATE (docs/design.md, "State").
 *   h          [in]   a manager handle.
 *   out_array  [out]  zero-initialised; owned by the caller.
 *   out_schema [out]  zero-initialised; owned by the caller. */
int32_t kafkars_manager_state(kafkars_handle h, struct ArrowArray *out_array,
                              struct ArrowSchema *out_schema, char **err);

/* Partition statistics: one row per partition, in the row order of
 * kafkars_manager_state(), schema KAFKARS_SCHEMA_PARTITION_STATS.
 * Parameters as kafkars_manager_state(). */
int32_t kafkars_manager_stats(kafkars_handle h, struct ArrowArray *out_array,
                              struct ArrowSchema *out_schema, char **err);

/* Metrics as a JSON object (members documented in docs/reference/c-api.md;
 * versioned with KAFKARS_ABI_VERSION).
 *   h        [in]   a manager handle.
 *   out_json [out]  a NUL-terminated string allocated by the library: free
 *                   it with kafkars_free_string(). */
int32_t kafkars_manager_metrics(kafkars_handle h, char **out_json,
                                char **err);

/*
 * Commit, under config's group.id, for every partition this manager
 * consumes that has returned a row, the offset after the last row
 * kafkars_manager_poll() (or a stream) has returned: never a row not yet
 * returned (docs/design.md, "Commits and consumer groups").
 *
 *   h          [in]  a manager handle.
 *   flags      [in]  KAFKARS_COMMIT_* bits (0: synchronous).
 *   timeout_ms [in]  >= 0: how long a synchronous commit waits for the
 *                    group coordinator; past it KAFKARS_ERR_KAFKA (the
 *                    commit may still land later).
 *   out_json   [out] a JSON array of {"topic": "t", "partition": 0,
 *                    "offset": 42}, what was committed (asynchronously: sent);
 *                    "[]" when no row was returned yet. Free it with
 *                    kafkars_free_string().
 *
 * KAFKARS_ERR_CONFIG when config has no group.id (kafkars' default one is
 * random), KAFKARS_ERR_TOPIC_NOT_FOUND for a partition of a deleted topic,
 * KAFKARS_ERR_KAFKA for any other failure (the message names the
 * partitions). Asynchronous failures are counted in the metrics
 * (commit_failures, last_commit_error) and logged (kafkars_manager_events).
 */
int32_t kafkars_manager_commit(kafkars_handle h, uint32_t flags,
                               int32_t timeout_ms, char **out_json,
                               char **err);

/* Per-partition lag, schema KAFKARS_SCHEMA_PARTITION_LAG: topic,
 * partition, committed_offset (the last committed offset this manager knows:
 * read at creation or assignment, or committed by it), position (the next
 * offset the consumer reads), end_offset (the log end offset the client
 * last learned from a fetch: no request per call), lag (end_offset -
 * committed_offset), lag_to_position (end_offset - position), is_assigned.
 * Offsets are null when unknown, and for partitions not assigned to this
 * member.
 *   h          [in]   a manager handle.
 *   out_array  [out]  zero-initialised; owned by the caller.
 *   out_schema [out]  zero-initialised; owned by the caller. */
int32_t kafkars_manager_lag(kafkars_handle h, struct ArrowArray *out_array,
                            struct ArrowSchema *out_schema, char **err);

/* Take the log lines kept for the caller (rebalances, commit failures),
 * oldest first: a JSON array of {"time_ms": epoch ms, "level": "info" |
 * "warning", "message": "..."}. KAFKARS_FLAG_EVENTS tells a poll's caller
 * that lines wait.
 *   h        [in]   a manager handle.
 *   out_json [out]  free it with kafkars_free_string(). */
int32_t kafkars_manager_events(kafkars_handle h, char **out_json, char **err);

/* Stop the manager and free its consumer and buffers. Idempotent: closing
 * a closed (or unknown) handle returns KAFKARS_OK. Batches and streams
 * already returned stay valid. A poll blocked in another thread returns
 * KAFKARS_ERR_CLOSED.
 *   h [in]  a manager handle. */
int32_t kafkars_manager_close(kafkars_handle h, char **err);

/*   which [in]   one of KAFKARS_SCHEMA_*.
 *   out   [out]  a zero-initialised struct; owned by the caller. */
int32_t kafkars_schema(int32_t which, struct ArrowSchema *out, char **err);

/* Check a spec without connecting. Reports the first problem.
 *   spec_json [in]  the same JSON as kafkars_manager_new, in which "config"
 *                   may be omitted; spec_len bytes. Not NULL. */
int32_t kafkars_validate(char *spec_json, size_t spec_len, char **err);

/*
 * Look up partition offsets without a manager: what a planner needs to
 * split a replay into time slices (docs/design.md, "Replay at scale"),
 * each slice then read by a manager with the "offsets" policy. Creates a
 * short-lived consumer that fetches no record.
 *
 *   query_json [in]  query_len bytes of UTF-8 JSON:
 *     {"config": {"bootstrap.servers": "host:9092", ...},  as for kafkars_manager_new
 *      "topics": ["t", ...],              topic names
 *      "times_ms": [t0, t1, ...],         epoch ms, >= 0; may be empty
 *      "max_timestamps": false,           also each partition's largest timestamp
 *      "timeout_ms": 30000}               bounds the whole call
 *     Omitted members take the defaults shown; unknown members are an
 *     error. A topic that does not exist is KAFKARS_ERR_TOPIC_NOT_FOUND.
 *   out_json   [out] on success, a NUL-terminated string allocated by the
 *                    library (free it with kafkars_free_string()):
 *     {"topics": [{"name": "t", "partitions": [
 *        {"partition": 0, "low": 0, "high": 1200,
 *         "offsets": [o0, o1, ...], "max_timestamp_ms": 1763884800000}, ...]}, ...]}
 *     Partitions in partition order. low is the first offset in the log;
 *     high the offset a consumer with this config reads up to (the high
 *     watermark, or the last stable offset under
 *     isolation.level=read_committed). offsets[i] is the first offset
 *     whose record has a timestamp >= times_ms[i] (transaction markers
 *     included, as Kafka's offsets-for-times finds them), high when there
 *     is none, always within [low, high]. max_timestamp_ms (only with
 *     "max_timestamps": true) is the largest record timestamp in the log,
 *     markers included, or null for a partition without records; it costs
 *     about 45 requests.
 */
int32_t kafkars_offsets(char *query_json, size_t query_len, char **out_json,
                        char **err);

/* Debug counters as a JSON object: live_handles, live_managers,
 * goroutines, arrow_live_bytes, arrow_live_allocations, arrow_cached_bytes,
 * go_heap_inuse_bytes, go_sys_bytes (versioned with KAFKARS_ABI_VERSION).
 * Reading the Go figures briefly stops the Go runtime: for debugging, not
 * for a hot loop.
 *   out_json [out]  allocated by the library: free with kafkars_free_string(). */
int32_t kafkars_debug_counters(char **out_json, char **err);

/*
 * Producing (docs/design.md, "Producing and dead letters").
 *
 * A producer is a handle like a manager's (never 0, not reused). It runs
 * one send at a time: kafkars_producer_send() starts producing an Arrow
 * stream in the background and returns a send handle; kafkars_send_wait()
 * waits for it in slices; kafkars_send_close() frees the send handle
 * (aborting the send if it is still running).
 */

/*
 * Create a producer. Does not block (no request is made yet).
 *
 *   config_json [in]  config_len bytes of UTF-8 JSON, no terminator needed:
 *     {"config": {"bootstrap.servers": "host:9092", ...},  librdkafka producer
 *                                                           properties, string values
 *      "startup_timeout_ms": 15000}                          how long a send waits for
 *                                                           the topic's metadata
 *     kafkars sets enable.idempotence=true unless config sets it (so acks=all).
 *     Unknown members are an error. Not NULL.
 *   out [out]  the new producer handle on success; untouched on failure.
 */
int32_t kafkars_producer_new(char *config_json, size_t config_len,
                             kafkars_handle *out, char **err);

/*
 * Start producing the record batches of an Arrow stream to one topic.
 * Returns at once; the rows are read and sent in the background, with no
 * call into the caller's language per row.
 *
 *   producer  [in]  a producer handle with no send running (else
 *                   KAFKARS_ERR_CONFIG: the producer is busy).
 *   spec_json [in]  spec_len bytes of UTF-8 JSON naming the columns:
 *     {"topic": "t", "key": "k", "value": "value", "timestamp": "ts",
 *      "partition": "p", "headers": "h"}
 *     Only topic is required; an omitted or "" column means null keys,
 *     null values, the producer's clock, the partitioner, no headers.
 *     key, value: binary or utf8 (also large and view forms) are sent as
 *     they are; other types are encoded as JSON. timestamp: a timestamp
 *     column (any unit) or int64 epoch ms. partition: int32 (or another
 *     integer type). headers: list<struct<key: utf8, value: binary>> or
 *     map<utf8, binary>. A column that does not exist or has another type
 *     is KAFKARS_ERR_CONFIG naming it. Not NULL.
 *   data      [in,out] a stream (not NULL, not released) that the library
 *                   takes over whatever the status: it is moved out, and
 *                   the caller's struct is left released (do not call its
 *                   release). Read from a library thread, batch by batch.
 *   out_send  [out] the send handle on success.
 */
int32_t kafkars_producer_send(kafkars_handle producer, char *spec_json,
                              size_t spec_len, struct ArrowArrayStream *data,
                              kafkars_handle *out_send, char **err);

/*
 * Wait for a send to finish: every record handed to librdkafka
 * acknowledged by the broker or failed.
 *
 *   send        [in]  a send handle.
 *   max_wait_ms [in]  >= 0: the longest this call blocks.
 *   out_acked   [out] records acknowledged so far.
 *   out_result  [out] NULL while the send runs. Once it has finished: a
 *                     NUL-terminated JSON object (free it with
 *                     kafkars_free_string), on success and on failure:
 *       {"topic": "t", "rows": N (read from the input), "records": N
 *        (acknowledged), "bytes": N (their keys and values), "failed": N
 *        (failed deliveries), "not_sent": N (read, never handed over),
 *        "partitions": [{"partition": 0, "records": N, "first_offset": O,
 *                        "last_offset": O}, ...]  (acknowledged only),
 *        "seconds": S, "failed_row": null|N, "error_code": null|"NAME",
 *        "error": null|"message"}
 *
 * Returns KAFKARS_OK while running and when every record was acknowledged;
 * otherwise, once finished, the error: KAFKARS_ERR_PRODUCE naming the
 * first row that failed, KAFKARS_ERR_TOPIC_NOT_FOUND,
 * KAFKARS_ERR_BROKER_UNAVAILABLE (no metadata within startup_timeout_ms),
 * KAFKARS_ERR_CLOSED (aborted). The same answer is given again if called
 * after the end. Only acknowledged records are counted as written.
 */
int32_t kafkars_send_wait(kafkars_handle send, int32_t max_wait_ms,
                          int64_t *out_acked, char **out_result, char **err);

/*
 * Free a send handle. A send still running is aborted: nothing more is
 * read, records not yet sent are purged, and its outcome is not reported.
 * Does not block. Idempotent.
 *   send [in]  a send handle.
 */
int32_t kafkars_send_close(kafkars_handle send, char **err);

/*
 * Destroy a producer. A send still running is aborted first; blocks
 * until its background work has stopped (the in-flight requests are
 * abandoned: at most a few hundred ms). Idempotent.
 *   producer [in]  a producer handle.
 */
int32_t kafkars_producer_close(kafkars_handle producer, char **err);

/* Free a string returned by this library. NULL is ignored.
 *   s [in]  the string; invalid afterwards. */
void kafkars_free_string(char *s);

#ifdef __cplusplus
}
#endif

#endif /* KAFKARS_H_PROTOTYPES */
