/*
 * rdk.h: the C half of the Kafka adapter.
 *
 * Everything here runs inside one cgo call per batch: take a batch with
 * rd_kafka_consume_batch_queue and describe every message in a flat array
 * (kr_msg) that Go reads without further cgo calls. Waiting for data is not
 * done here: Go waits for the consumer queue's IO event pipe in its own
 * netpoller, because a goroutine blocked inside a cgo call keeps Go's sysmon
 * thread polling every 20 us (measured: 13% of the client's CPU when
 * tailing at 5 000 records/s). The rd_kafka_message_t
 * objects stay alive until the next kr_fetch (or kr_release) so that Go can
 * copy key and value bytes straight out of librdkafka's buffers.
 *
 * Internal to github.com/kafkars/kafkars/core/rdk; not a public interface.
 */
#ifndef KAFKARS_RDK_H
#define KAFKARS_RDK_H

#include <stdint.h>
#include <stddef.h>
#include <pthread.h>
#include <librdkafka/rdkafka.h>

#define KR_LOG_LINES 16
#define KR_LOG_LEN 320

/* kr_msg.kind */
#define KR_MSG 0  /* a record */
#define KR_EOF 1  /* partition EOF event; offset = end offset reached */
#define KR_ERR 2  /* error event; err and errstr describe it */

typedef struct kr_msg {
        const uint8_t *key; /* NULL when key_len < 0 */
        const uint8_t *val; /* NULL when val_len < 0 */
        int64_t offset;
        int64_t ts;         /* ms since epoch, -1 if none */
        int32_t key_len;    /* -1: null key */
        int32_t val_len;    /* -1: null value */
        int32_t pidx;       /* kafkars partition index, -1 if not ours */
        int32_t kind;       /* KR_MSG, KR_EOF, KR_ERR */
        int32_t err;        /* rd_kafka_resp_err_t for KR_ERR/KR_EOF */
        int32_t hdr_len;    /* bytes in the header blob, 0 if none */
        int64_t hdr_off;    /* offset into kr_consumer.hdr */
        const char *errstr; /* for KR_ERR: valid until the next kr_fetch */
} kr_msg;

typedef struct kr_topic {
        char *name;
        rd_kafka_topic_t *rkt_cache; /* learned from the first message */
        int32_t base;                /* pidx of partition 0 */
        int32_t nparts;
} kr_topic;

/* kr_rebalance.kind: an assignment change made by the group protocol, recorded
 * by the rebalance callback (which runs inside kr_fetch, on the fetching
 * thread) for Go to handle right after kr_fetch returns. */
#define KR_RB_ASSIGN 1 /* partitions added: Go resolves offsets, then kr_apply */
#define KR_RB_REVOKE 2 /* partitions taken away: Go commits, then kr_apply */
#define KR_RB_LOST   3 /* lost (fenced, session timeout): already unassigned here */
#define KR_RB_ERROR  4 /* a rebalance error: the assignment was cleared here */

typedef struct kr_rebalance {
        int32_t kind;
        int32_t err;         /* KR_RB_ERROR: the rd_kafka_resp_err_t */
        int32_t cooperative; /* 1: incremental (un)assign; 0: eager assign */
        int32_t applied;     /* kr_apply was called (or the callback did it) */
        int64_t ts_ms;       /* wall clock when the callback ran */
        rd_kafka_topic_partition_list_t *parts; /* a copy, owned */
        struct kr_rebalance *next;
} kr_rebalance;

typedef struct kr_consumer {
        rd_kafka_t *rk;
        rd_kafka_queue_t *q; /* consumer queue (main queue forwarded) */
        int io_pipe[2];      /* librdkafka writes on queue empty->non-empty;
                                kr_wake writes too. Go waits on [0] in its
                                netpoller (not in a blocking cgo call). */

        kr_topic *topics;
        int ntopics;
        int want_headers;

        rd_kafka_message_t **rkm; /* messages of the current batch */
        kr_msg *msgs;             /* their descriptions */
        size_t cap;
        ssize_t n;

        uint8_t *hdr; /* header blob of the current batch */
        size_t hdr_len, hdr_cap;

        /* error events reported by the error callback (not per message) */
        char last_error[512];
        int32_t last_error_code;
        int32_t last_error_fatal;
        int64_t error_count;

        /* recent librdkafka log lines (level <= warning), newest last.
         * Written from librdkafka threads, hence the lock. */
        pthread_mutex_t log_lock;
        char log[KR_LOG_LINES][KR_LOG_LEN];
        int64_t log_count;
        int log_stderr; /* also print every line (KAFKARS_LOG=stderr or debug set) */

        /* Group membership (subscribe mode). Rebalance events are recorded by
         * the callback; Go takes them with kr_take_rebalances and applies the
         * assignment change with kr_apply. While closing, the callback
         * applies every change itself (nobody serves the events then). */
        pthread_mutex_t rb_lock;
        kr_rebalance *rb_head, *rb_tail;
        int closing;
        /* results of asynchronous commits (event API), drained by Go */
        rd_kafka_queue_t *commit_q;
} kr_consumer;

/* Create the consumer from conf (ownership of conf passes to librdkafka on
 * success). On failure returns NULL and fills errstr. */
kr_consumer *kr_new(rd_kafka_conf_t *conf, int batch_cap, int log_stderr,
                    int group, char *errstr, size_t errstr_size);

/* Declare topic i (0 <= i < ntopics): its name, first pidx, partition count. */
int kr_set_topics(kr_consumer *c, int ntopics);
void kr_set_topic(kr_consumer *c, int i, const char *name, int32_t base,
                  int32_t nparts);

/* Take at most max messages without waiting (the caller waits for io_pipe[0]
 * to become readable). Messages of the previous batch are destroyed first.
 * Returns the number of descriptors in c->msgs. */
ssize_t kr_fetch(kr_consumer *c, int max);

/* Destroy the messages of the current batch. */
void kr_release(kr_consumer *c);

/* Make io_pipe[0] readable, interrupting a wait on it (any thread). */
void kr_wake(kr_consumer *c);

/* Copy and clear the last error reported through the error callback. */
int32_t kr_take_error(kr_consumer *c, char *buf, size_t size, int32_t *fatal);

/* Copy the recent log lines (oldest first, '\n'-separated) into buf. */
size_t kr_recent_logs(kr_consumer *c, char *buf, size_t size);

/* Subscribe to topics (group mode). Returns an rd_kafka_resp_err_t. */
int32_t kr_subscribe(kr_consumer *c, char **topics, int n);

/* Detach the recorded rebalance events (oldest first); NULL if none. */
kr_rebalance *kr_take_rebalances(kr_consumer *c);

/* Apply an ASSIGN (the offsets in rb->parts are used) or REVOKE event:
 * incremental (un)assign, or assign for an eager protocol. Returns 0, or an
 * rd_kafka_resp_err_t with its text in errstr. */
int32_t kr_apply(kr_consumer *c, kr_rebalance *rb, char *errstr, size_t size);

/* Free one event (not the ones linked after it). */
void kr_rebalance_free(kr_rebalance *rb);

/* Commit offs (offsets are the next offsets to consume). Synchronous with
 * async=0: waits up to timeout_ms for the result; *result receives a copy of
 * the per-partition results (caller destroys it), NULL on timeout. With
 * async=1 the result goes to commit_q (kr_commit_result). Returns the
 * request-level error (RD_KAFKA_RESP_ERR__TIMED_OUT on timeout). */
int32_t kr_commit(kr_consumer *c, rd_kafka_topic_partition_list_t *offs,
                  int async, int timeout_ms,
                  rd_kafka_topic_partition_list_t **result);

/* One asynchronous commit result, without waiting: returns 1 and fills
 * *err and *result (caller destroys it) or 0 when none is pending. */
int kr_commit_result(kr_consumer *c, int32_t *err,
                     rd_kafka_topic_partition_list_t **result);

/* mallopt(M_MMAP_THRESHOLD, bytes): see rdk.FixMmapThreshold. */
int kr_fix_mmap_threshold(int bytes);
/* mallopt(M_TRIM_THRESHOLD, bytes): see rdk.FixTrimThreshold. */
int kr_fix_trim_threshold(int bytes);

/* Close the consumer and free everything. */
void kr_destroy(kr_consumer *c);

#endif
