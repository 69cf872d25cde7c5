/*
 * produce.c: see produce.h. Only the per-row loop and the delivery report
 * callback live here; the decisions (what to send, when to stop, what to
 * report) are made in Go.
 */
#include "produce.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void kr_p_error_cb(rd_kafka_t *rk, int err, const char *reason,
                          void *opaque) {
        kr_producer *p = (kr_producer *)opaque;
        (void)rk;
        if (!p)
                return;
        snprintf(p->last_error, sizeof(p->last_error), "%s", reason);
        p->last_error_code = err;
        if (err == RD_KAFKA_RESP_ERR__FATAL)
                p->fatal = 1;
}

static void kr_p_log_cb(const rd_kafka_t *rk, int level, const char *fac,
                        const char *buf) {
        kr_producer *p = (kr_producer *)rd_kafka_opaque(rk);
        if (!p)
                return;
        if (p->log_stderr)
                fprintf(stderr, "%%%d|%s|%s|%s\n", level, fac,
                        rd_kafka_name(rk), buf);
        if (level > 4)
                return;
        pthread_mutex_lock(&p->log_lock);
        snprintf(p->log[p->log_count % KR_PLOG_LINES], KR_PLOG_LEN, "%s: %s",
                 fac, buf);
        p->log_count++;
        pthread_mutex_unlock(&p->log_lock);
}

size_t kr_producer_logs(kr_producer *p, char *buf, size_t size) {
        size_t len = 0;
        if (size == 0)
                return 0;
        buf[0] = '\0';
        pthread_mutex_lock(&p->log_lock);
        int64_t first =
            p->log_count > KR_PLOG_LINES ? p->log_count - KR_PLOG_LINES : 0;
        for (int64_t i = first; i < p->log_count && len + 1 < size; i++) {
                int w = snprintf(buf + len, size - len, "%s%s",
                                 len ? "\n" : "", p->log[i % KR_PLOG_LINES]);
                if (w < 0)
                        break;
                len += (size_t)w;
                if (len >= size)
                        len = size - 1;
        }
        pthread_mutex_unlock(&p->log_lock);
        return len;
}

/* The row index travels as the message opaque. */
static void kr_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m,
                     void *opaque) {
        kr_producer *p = (kr_producer *)opaque;
        (void)rk;
        int64_t row = (int64_t)(intptr_t)m->_private;
        if (m->err) {
                p->failed++;
                if (p->fail_row < 0 || row < p->fail_row) {
                        p->fail_row  = row;
                        p->fail_code = m->err;
                        p->fail_part = m->partition;
                        snprintf(p->fail_str, sizeof(p->fail_str), "%s",
                                 rd_kafka_message_errstr(m));
                }
                return;
        }
        p->acked++;
        p->acked_bytes += (int64_t)m->len + (int64_t)m->key_len;
        int32_t part = m->partition;
        if (part < 0 || part >= p->nparts) {
                p->part_overflow = 1;
                return;
        }
        p->part_acked[part]++;
        if (p->part_first[part] < 0 || m->offset < p->part_first[part])
                p->part_first[part] = m->offset;
        if (m->offset > p->part_last[part])
                p->part_last[part] = m->offset;
}

kr_producer *kr_producer_new(rd_kafka_conf_t *conf, int log_stderr,
                             char *errstr, size_t errstr_size) {
        kr_producer *p = calloc(1, sizeof(*p));
        if (!p) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        pthread_mutex_init(&p->log_lock, NULL);
        p->log_stderr = log_stderr;
        p->fail_row   = -1;
        rd_kafka_conf_set_opaque(conf, p);
        rd_kafka_conf_set_error_cb(conf, kr_p_error_cb);
        rd_kafka_conf_set_log_cb(conf, kr_p_log_cb);
        rd_kafka_conf_set_dr_msg_cb(conf, kr_dr_cb);
        p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_size);
        if (!p->rk) {
                pthread_mutex_destroy(&p->log_lock);
                free(p);
                return NULL;
        }
        return p;
}

int kr_send_begin(kr_producer *p, const char *topic, int32_t nparts,
                  char *errstr, size_t errstr_size) {
        if (p->rkt) {
                rd_kafka_topic_destroy(p->rkt);
                p->rkt = NULL;
        }
        p->rkt = rd_kafka_topic_new(p->rk, topic, NULL);
        if (!p->rkt) {
                snprintf(errstr, errstr_size, "%s",
                         rd_kafka_err2str(rd_kafka_last_error()));
                return -1;
        }
        if (nparts < 1)
                nparts = 1;
        if (nparts > p->nparts) {
                int64_t *a = realloc(p->part_acked, sizeof(int64_t) * nparts);
                if (a)
                        p->part_acked = a;
                int64_t *f = realloc(p->part_first, sizeof(int64_t) * nparts);
                if (f)
                        p->part_first = f;
                int64_t *l = realloc(p->part_last, sizeof(int64_t) * nparts);
                if (l)
                        p->part_last = l;
                if (!a || !f || !l) {
                        snprintf(errstr, errstr_size, "out of memory");
                        return -1;
                }
                p->nparts = nparts;
        }
        for (int32_t i = 0; i < p->nparts; i++) {
                p->part_acked[i] = 0;
                p->part_first[i] = -1;
                p->part_last[i]  = -1;
        }
        p->enqueued = p->acked = p->acked_bytes = p->failed = 0;
        p->fail_row = -1;
        p->fail_code = 0;
        p->fail_part = -1;
        p->fail_str[0] = '\0';
        p->part_overflow = 0;
        return 0;
}

static inline int kr_valid(const uint8_t *bm, int64_t i) {
        return !bm || (bm[i >> 3] >> (i & 7)) & 1;
}

/* a non-NULL pointer for empty (not null) keys and values: librdkafka
 * writes a NULL pointer as a null key/value */
static const uint8_t kr_empty[1];

/* Bytes of slot i of c: 1 with *ptr, *len set, 0 for null. */
static inline int kr_get(const kr_bytes *c, int64_t i, const uint8_t **ptr,
                         size_t *len) {
        int64_t j = c->off + i;
        if (!kr_valid(c->valid, j))
                return 0;
        switch (c->kind) {
        case KR_B_OFF32: {
                const int32_t *o = (const int32_t *)c->offsets;
                *len = (size_t)(o[j + 1] - o[j]);
                *ptr = *len ? c->data + o[j] : kr_empty;
                return 1;
        }
        case KR_B_OFF64: {
                const int64_t *o = (const int64_t *)c->offsets;
                *len = (size_t)(o[j + 1] - o[j]);
                *ptr = *len ? c->data + o[j] : kr_empty;
                return 1;
        }
        case KR_B_VIEW: {
                const uint8_t *v = (const uint8_t *)c->offsets + 16 * j;
                int32_t n;
                memcpy(&n, v, 4);
                *len = (size_t)n;
                if (n == 0) {
                        *ptr = kr_empty;
                } else if (n <= 12) {
                        *ptr = v + 4;
                } else {
                        int32_t bi, bo;
                        memcpy(&bi, v + 8, 4);
                        memcpy(&bo, v + 12, 4);
                        *ptr = c->vdata[bi] + bo;
                }
                return 1;
        }
        }
        return 0;
}

/* Headers of row i, or NULL (no headers). *bad is set to a message when
 * an entry is malformed (null entry or name). */
static rd_kafka_headers_t *kr_row_headers(const kr_headers *h, int64_t i,
                                          const char **bad) {
        int64_t j = h->off + i;
        if (!kr_valid(h->valid, j))
                return NULL;
        int64_t lo, hi;
        if (h->kind == KR_H_LIST) {
                const int32_t *o = (const int32_t *)h->offsets;
                lo = o[j];
                hi = o[j + 1];
        } else {
                const int64_t *o = (const int64_t *)h->offsets;
                lo = o[j];
                hi = o[j + 1];
        }
        if (hi <= lo)
                return NULL;
        rd_kafka_headers_t *hdrs = rd_kafka_headers_new((size_t)(hi - lo));
        for (int64_t e = lo; e < hi; e++) {
                if (!kr_valid(h->svalid, h->soff + e)) {
                        *bad = "a null header entry";
                        rd_kafka_headers_destroy(hdrs);
                        return NULL;
                }
                const uint8_t *name, *val;
                size_t nlen, vlen;
                if (!kr_get(&h->name, e, &name, &nlen)) {
                        *bad = "a header with a null name";
                        rd_kafka_headers_destroy(hdrs);
                        return NULL;
                }
                if (!kr_get(&h->value, e, &val, &vlen)) {
                        val  = NULL;
                        vlen = 0;
                }
                rd_kafka_header_add(hdrs, (const char *)name, (ssize_t)nlen,
                                    val, (ssize_t)vlen);
        }
        return hdrs;
}

static int64_t kr_now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t kr_produce(kr_producer *p, const kr_batch *b, int64_t from,
                   int budget_ms, int32_t *err_code, char *errbuf,
                   size_t errbuf_size) {
        int64_t deadline = budget_ms > 0 ? kr_now_ms() + budget_ms : 0;
        rd_kafka_vu_t vu[8];
        *err_code = 0;
        int64_t i = from;
        while (i < b->rows) {
                size_t n = 0;
                vu[n].vtype   = RD_KAFKA_VTYPE_RKT;
                vu[n++].u.rkt = p->rkt;
                vu[n].vtype   = RD_KAFKA_VTYPE_MSGFLAGS;
                vu[n++].u.i   = RD_KAFKA_MSG_F_COPY;
                vu[n].vtype   = RD_KAFKA_VTYPE_OPAQUE;
                vu[n++].u.ptr = (void *)(intptr_t)(b->base_row + i);
                const uint8_t *ptr;
                size_t len;
                if (b->key.kind != KR_B_NONE && kr_get(&b->key, i, &ptr, &len)) {
                        vu[n].vtype        = RD_KAFKA_VTYPE_KEY;
                        vu[n].u.mem.ptr    = (void *)ptr;
                        vu[n++].u.mem.size = len;
                }
                if (b->value.kind != KR_B_NONE &&
                    kr_get(&b->value, i, &ptr, &len)) {
                        vu[n].vtype        = RD_KAFKA_VTYPE_VALUE;
                        vu[n].u.mem.ptr    = (void *)ptr;
                        vu[n++].u.mem.size = len;
                }
                if (b->ts && kr_valid(b->ts_valid, b->ts_off + i)) {
                        int64_t ts = b->ts[b->ts_off + i];
                        if (ts < 0) {
                                *err_code = RD_KAFKA_RESP_ERR__INVALID_ARG;
                                snprintf(errbuf, errbuf_size,
                                         "negative timestamp %lld",
                                         (long long)ts);
                                return i;
                        }
                        vu[n].vtype   = RD_KAFKA_VTYPE_TIMESTAMP;
                        vu[n++].u.i64 = ts;
                }
                if (b->part && kr_valid(b->part_valid, b->part_off + i)) {
                        int32_t part = b->part[b->part_off + i];
                        if (part < 0) {
                                *err_code = RD_KAFKA_RESP_ERR__INVALID_ARG;
                                snprintf(errbuf, errbuf_size,
                                         "negative partition %d", part);
                                return i;
                        }
                        vu[n].vtype   = RD_KAFKA_VTYPE_PARTITION;
                        vu[n++].u.i32 = part;
                }
                rd_kafka_headers_t *hdrs = NULL;
                if (b->hdr.kind != KR_H_NONE) {
                        const char *bad = NULL;
                        hdrs = kr_row_headers(&b->hdr, i, &bad);
                        if (bad) {
                                *err_code = RD_KAFKA_RESP_ERR__INVALID_ARG;
                                snprintf(errbuf, errbuf_size, "headers: %s",
                                         bad);
                                return i;
                        }
                        if (hdrs) {
                                vu[n].vtype       = RD_KAFKA_VTYPE_HEADERS;
                                vu[n++].u.headers = hdrs;
                        }
                }
                rd_kafka_error_t *e = rd_kafka_produceva(p->rk, vu, n);
                if (e) {
                        rd_kafka_resp_err_t code = rd_kafka_error_code(e);
                        if (code == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                                rd_kafka_error_destroy(e);
                                if (hdrs)
                                        rd_kafka_headers_destroy(hdrs);
                                /* make room: serve delivery reports */
                                rd_kafka_poll(p->rk, 5);
                                if (deadline && kr_now_ms() >= deadline)
                                        return i;
                                continue; /* the same row again */
                        }
                        *err_code = code;
                        snprintf(errbuf, errbuf_size, "%s",
                                 rd_kafka_error_string(e));
                        rd_kafka_error_destroy(e);
                        if (hdrs)
                                rd_kafka_headers_destroy(hdrs);
                        return i;
                }
                p->enqueued++;
                i++;
                if ((i & 1023) == 0) {
                        rd_kafka_poll(p->rk, 0);
                        if (deadline && kr_now_ms() >= deadline)
                                return i;
                }
        }
        return i;
}

int64_t kr_serve(kr_producer *p, int timeout_ms, int flush) {
        if (flush)
                rd_kafka_flush(p->rk, timeout_ms);
        else
                rd_kafka_poll(p->rk, timeout_ms);
        return p->enqueued - p->acked - p->failed;
}

void kr_purge(kr_producer *p) {
        rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE |
                                  RD_KAFKA_PURGE_F_INFLIGHT |
                                  RD_KAFKA_PURGE_F_NON_BLOCKING);
}

int32_t kr_producer_take_error(kr_producer *p, char *buf, size_t size,
                               int32_t *fatal) {
        int32_t code = p->last_error_code;
        if (!code)
                return 0;
        snprintf(buf, size, "%s", p->last_error);
        *fatal             = p->fatal;
        p->last_error_code = 0;
        p->last_error[0]   = '\0';
        return code;
}

int32_t kr_producer_fatal(kr_producer *p, char *buf, size_t size) {
        return rd_kafka_fatal_error(p->rk, buf, size);
}

int32_t kr_producer_partitions(kr_producer *p, const char *topic,
                               int timeout_ms, int32_t *out) {
        *out = 0;
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(p->rk, topic, NULL);
        if (!rkt)
                return rd_kafka_last_error();
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t err =
            rd_kafka_metadata(p->rk, 0, rkt, &md, timeout_ms);
        rd_kafka_topic_destroy(rkt);
        if (err)
                return err;
        if (md->topic_cnt < 1)
                err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
        else if (md->topics[0].err)
                err = md->topics[0].err;
        else
                *out = md->topics[0].partition_cnt;
        rd_kafka_metadata_destroy(md);
        return err;
}

void kr_producer_destroy(kr_producer *p) {
        if (!p)
                return;
        if (p->rkt)
                rd_kafka_topic_destroy(p->rkt);
        if (p->rk)
                rd_kafka_destroy(p->rk);
        free(p->part_acked);
        free(p->part_first);
        free(p->part_last);
        pthread_mutex_destroy(&p->log_lock);
        free(p);
}
