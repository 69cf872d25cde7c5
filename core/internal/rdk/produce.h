/*
 * produce.h: the C half of the producer.
 *
 * One cgo call per batch of rows: kr_produce walks the Arrow buffers of a
 * record batch (described by kr_batch, pointers into C memory or pinned Go
 * memory) and hands each row to rd_kafka_produceva, copying key, value and
 * headers (RD_KAFKA_MSG_F_COPY: the batch may be released as soon as the
 * call returns). Delivery reports are served by rd_kafka_poll inside the
 * same calls; the report callback counts acknowledged records per
 * partition and keeps the failure with the lowest row index.
 *
 * Internal to github.com/kafkars/kafkars/core/internal/rdk.
 */
#ifndef KAFKARS_RDK_PRODUCE_H
#define KAFKARS_RDK_PRODUCE_H

#include <stdint.h>
#include <stddef.h>
#include <pthread.h>
#include <librdkafka/rdkafka.h>

/* kr_bytes.kind: the physical layout of a bytes column */
#define KR_B_NONE 0  /* no column: the record has no key (or value) */
#define KR_B_OFF32 1 /* binary/utf8: int32 offsets + data */
#define KR_B_OFF64 2 /* large_binary/large_utf8 (and encoded columns): int64 offsets */
#define KR_B_VIEW 3  /* binary_view/utf8_view: 16-byte views + data buffers */

typedef struct kr_bytes {
        int32_t kind;
        int64_t off;                 /* the array's offset (slots to skip) */
        const uint8_t *valid;        /* validity bitmap; NULL: no nulls */
        const void *offsets;         /* offsets, or the views */
        const uint8_t *data;         /* OFF32/OFF64: the data buffer (may be NULL) */
        const uint8_t *const *vdata; /* VIEW: the variadic data buffers */
} kr_bytes;

/* kr_headers.kind */
#define KR_H_NONE 0
#define KR_H_LIST 1  /* list<struct<name, value>> or map<name, value>: int32 offsets */
#define KR_H_LARGE 2 /* large_list<struct<name, value>>: int64 offsets */

typedef struct kr_headers {
        int32_t kind;
        int64_t off;          /* list level */
        const uint8_t *valid; /* a null list: no headers */
        const void *offsets;
        int64_t soff;          /* entries (struct) level; an entry index j */
        const uint8_t *svalid; /* is at bit soff + j; a null entry is an error */
        kr_bytes name, value;  /* entry fields (their own offsets applied) */
} kr_headers;

typedef struct kr_batch {
        int64_t rows;     /* rows in this batch */
        int64_t base_row; /* index of its first row in the whole send */
        kr_bytes key, value;
        /* timestamps: int64 epoch ms, NULL: none (the producer's clock) */
        const int64_t *ts;
        int64_t ts_off;
        const uint8_t *ts_valid;
        /* partitions: int32, NULL: none (the partitioner decides) */
        const int32_t *part;
        int64_t part_off;
        const uint8_t *part_valid;
        kr_headers hdr;
} kr_batch;

#define KR_PLOG_LINES 16
#define KR_PLOG_LEN 320

typedef struct kr_producer {
        rd_kafka_t *rk;
        rd_kafka_topic_t *rkt; /* topic of the current send */

        /* the current send; written by the delivery report callback, which
         * runs inside rd_kafka_poll/flush on the sending goroutine */
        int64_t enqueued;      /* records librdkafka accepted */
        int64_t acked;         /* acknowledged by the broker */
        int64_t acked_bytes;   /* their key + value bytes */
        int64_t failed;        /* delivery reports with an error */
        int64_t fail_row;      /* lowest failed row index, -1 if none */
        int32_t fail_code;     /* its rd_kafka_resp_err_t */
        int32_t fail_part;     /* its partition (-1 if not assigned) */
        char fail_str[512];    /* its reason */
        int64_t *part_acked;   /* per partition: records acknowledged */
        int64_t *part_first;   /* lowest acknowledged offset (-1: none) */
        int64_t *part_last;    /* highest acknowledged offset */
        int32_t nparts;        /* size of the three arrays */
        int32_t part_overflow; /* a partition past nparts was acknowledged */

        /* error callback (served by rd_kafka_poll on the same goroutine) */
        char last_error[512];
        int32_t last_error_code;
        int32_t fatal;

        /* recent librdkafka log lines (level <= warning); written from
         * librdkafka threads, hence the lock */
        pthread_mutex_t log_lock;
        char log[KR_PLOG_LINES][KR_PLOG_LEN];
        int64_t log_count;
        int log_stderr;
} kr_producer;

/* Create a producer from conf (ownership passes to librdkafka on success).
 * On failure returns NULL and fills errstr; conf is still the caller's. */
kr_producer *kr_producer_new(rd_kafka_conf_t *conf, int log_stderr,
                             char *errstr, size_t errstr_size);

/* Start a send to topic with partition counters for nparts partitions:
 * counters reset. Returns 0, or -1 (errstr filled) when the topic handle
 * cannot be made. */
int kr_send_begin(kr_producer *p, const char *topic, int32_t nparts,
                  char *errstr, size_t errstr_size);

/* Hand rows [from, b->rows) of b to librdkafka until all are enqueued, a
 * row is refused, or budget_ms passes (0: no limit). On a full queue it
 * serves delivery reports and tries again. Returns the first row not
 * enqueued (b->rows when all were). When a row is refused for a reason
 * other than a full queue, *err_code receives the code, errbuf the reason,
 * and the returned row is that row. */
int64_t kr_produce(kr_producer *p, const kr_batch *b, int64_t from,
                   int budget_ms, int32_t *err_code, char *errbuf,
                   size_t errbuf_size);

/* Serve delivery reports for up to timeout_ms, flushing (linger cut
 * short) when flush is set. Returns the records still outstanding. */
int64_t kr_serve(kr_producer *p, int timeout_ms, int flush);

/* Purge records not yet acknowledged, queued or in flight (their reports
 * fail with _PURGE_QUEUE / _PURGE_INFLIGHT): for an aborted send. */
void kr_purge(kr_producer *p);

/* Copy and clear the last error reported through the error callback. */
int32_t kr_producer_take_error(kr_producer *p, char *buf, size_t size,
                               int32_t *fatal);

/* The producer's fatal error (idempotence broken), 0 if none. */
int32_t kr_producer_fatal(kr_producer *p, char *buf, size_t size);

size_t kr_producer_logs(kr_producer *p, char *buf, size_t size);

/* Partitions of topic into *out from a metadata request (blocks up to
 * timeout_ms). Returns 0 or the rd_kafka_resp_err_t (librdkafka's own
 * codes are negative). */
int32_t kr_producer_partitions(kr_producer *p, const char *topic,
                               int timeout_ms, int32_t *out);

/* Destroy the producer (records still queued fail with _DESTROY). */
void kr_producer_destroy(kr_producer *p);

#endif
