/*
 * rdk.c: see rdk.h. Kept small on purpose: the logic lives in Go, this file
 * only does what would cost a cgo call per message if done from Go.
 */
#include "rdk.h"

#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void kr_error_cb(rd_kafka_t *rk, int err, const char *reason,
                        void *opaque) {
        kr_consumer *c = (kr_consumer *)opaque;
        (void)rk;
        if (!c)
                return;
        /* Called from the thread serving the consumer queue, which is the
         * engine goroutine inside kr_fetch: no lock needed. */
        /* the code travels separately (its name is added by Go) */
        snprintf(c->last_error, sizeof(c->last_error), "%s", reason);
        c->last_error_code = err;
        if (err == RD_KAFKA_RESP_ERR__FATAL)
                c->last_error_fatal = 1;
        c->error_count++;
}

static void kr_log_cb(const rd_kafka_t *rk, int level, const char *fac,
                      const char *buf) {
        kr_consumer *c = (kr_consumer *)rd_kafka_opaque(rk);
        if (!c)
                return;
        if (c->log_stderr)
                fprintf(stderr, "%%%d|%s|%s|%s\n", level, fac,
                        rd_kafka_name(rk), buf);
        if (level > 4) /* keep emerg..warning */
                return;
        pthread_mutex_lock(&c->log_lock);
        snprintf(c->log[c->log_count % KR_LOG_LINES], KR_LOG_LEN, "%s: %s",
                 fac, buf);
        c->log_count++;
        pthread_mutex_unlock(&c->log_lock);
}

static int64_t kr_now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The assign/unassign call the event asks for: incremental for a
 * cooperative protocol (KIP-848 or cooperative-sticky), a whole assign for an
 * eager one. */
static int32_t kr_do_apply(rd_kafka_t *rk, int32_t kind, int cooperative,
                           rd_kafka_topic_partition_list_t *parts,
                           char *errstr, size_t size) {
        rd_kafka_error_t *e      = NULL;
        rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
        if (kind == KR_RB_ASSIGN) {
                if (cooperative)
                        e = rd_kafka_incremental_assign(rk, parts);
                else
                        err = rd_kafka_assign(rk, parts);
        } else {
                if (cooperative)
                        e = rd_kafka_incremental_unassign(rk, parts);
                else
                        err = rd_kafka_assign(rk, NULL);
        }
        if (e) {
                err = rd_kafka_error_code(e);
                if (errstr)
                        snprintf(errstr, size, "%s", rd_kafka_error_string(e));
                rd_kafka_error_destroy(e);
        } else if (err && errstr) {
                snprintf(errstr, size, "%s", rd_kafka_err2str(err));
        }
        return (int32_t)err;
}

/* Runs inside a consume call: kr_fetch on the fetching thread, or
 * rd_kafka_consumer_close in kr_destroy. An ASSIGN or REVOKE is only
 * recorded: Go resolves start offsets, or commits what the caller has
 * processed, then calls kr_apply (librdkafka waits for that call, keeping the
 * assigned partitions paused meanwhile). A loss or an error needs no
 * decision and is applied here. */
static void kr_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                            rd_kafka_topic_partition_list_t *parts,
                            void *opaque) {
        kr_consumer *c = (kr_consumer *)opaque;
        const char *proto = rd_kafka_rebalance_protocol(rk);
        int coop          = proto && !strcmp(proto, "COOPERATIVE");
        int32_t kind;
        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
                kind = KR_RB_ASSIGN;
        else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
                kind = rd_kafka_assignment_lost(rk) ? KR_RB_LOST : KR_RB_REVOKE;
        else
                kind = KR_RB_ERROR;
        int applied = 0;
        if (kind == KR_RB_ERROR) {
                rd_kafka_assign(rk, NULL); /* as librdkafka documents */
                applied = 1;
        } else if (kind == KR_RB_LOST || !c || c->closing) {
                kr_do_apply(rk, kind == KR_RB_ASSIGN ? KR_RB_ASSIGN : KR_RB_REVOKE,
                            coop, parts, NULL, 0);
                applied = 1;
        }
        if (!c || c->closing)
                return;
        kr_rebalance *rb = calloc(1, sizeof(*rb));
        if (!rb) {
                if (!applied) /* out of memory: keep the group moving */
                        kr_do_apply(rk, kind, coop, parts, NULL, 0);
                return;
        }
        rb->kind        = kind;
        rb->err         = (int32_t)err;
        rb->cooperative = coop;
        rb->applied     = applied;
        rb->ts_ms       = kr_now_ms();
        rb->parts       = parts ? rd_kafka_topic_partition_list_copy(parts)
                                : rd_kafka_topic_partition_list_new(0);
        pthread_mutex_lock(&c->rb_lock);
        if (c->rb_tail)
                c->rb_tail->next = rb;
        else
                c->rb_head = rb;
        c->rb_tail = rb;
        pthread_mutex_unlock(&c->rb_lock);
}

kr_rebalance *kr_take_rebalances(kr_consumer *c) {
        pthread_mutex_lock(&c->rb_lock);
        kr_rebalance *rb = c->rb_head;
        c->rb_head = c->rb_tail = NULL;
        pthread_mutex_unlock(&c->rb_lock);
        return rb;
}

int32_t kr_apply(kr_consumer *c, kr_rebalance *rb, char *errstr, size_t size) {
        if (rb->applied || (rb->kind != KR_RB_ASSIGN && rb->kind != KR_RB_REVOKE))
                return 0;
        rb->applied = 1;
        return kr_do_apply(c->rk, rb->kind, rb->cooperative, rb->parts, errstr,
                           size);
}

void kr_rebalance_free(kr_rebalance *rb) {
        if (!rb)
                return;
        if (rb->parts)
                rd_kafka_topic_partition_list_destroy(rb->parts);
        free(rb);
}

int32_t kr_subscribe(kr_consumer *c, char **topics, int n) {
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n);
        for (int i = 0; i < n; i++)
                rd_kafka_topic_partition_list_add(l, topics[i],
                                                  RD_KAFKA_PARTITION_UA);
        rd_kafka_resp_err_t err = rd_kafka_subscribe(c->rk, l);
        rd_kafka_topic_partition_list_destroy(l);
        return (int32_t)err;
}

int32_t kr_commit(kr_consumer *c, rd_kafka_topic_partition_list_t *offs,
                  int async, int timeout_ms,
                  rd_kafka_topic_partition_list_t **result) {
        *result = NULL;
        if (async)
                return (int32_t)rd_kafka_commit_queue(c->rk, offs, c->commit_q,
                                                      NULL, NULL);
        rd_kafka_queue_t *q     = rd_kafka_queue_new(c->rk);
        rd_kafka_resp_err_t err = rd_kafka_commit_queue(c->rk, offs, q, NULL, NULL);
        if (!err) {
                rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms);
                if (!ev) {
                        err = RD_KAFKA_RESP_ERR__TIMED_OUT;
                } else {
                        err = rd_kafka_event_error(ev);
                        const rd_kafka_topic_partition_list_t *l =
                            rd_kafka_event_topic_partition_list(ev);
                        if (l)
                                *result = rd_kafka_topic_partition_list_copy(l);
                        rd_kafka_event_destroy(ev);
                }
        }
        rd_kafka_queue_destroy(q);
        return (int32_t)err;
}

int kr_commit_result(kr_consumer *c, int32_t *err,
                     rd_kafka_topic_partition_list_t **result) {
        *result = NULL;
        rd_kafka_event_t *ev = rd_kafka_queue_poll(c->commit_q, 0);
        if (!ev)
                return 0;
        *err = (int32_t)rd_kafka_event_error(ev);
        const rd_kafka_topic_partition_list_t *l =
            rd_kafka_event_topic_partition_list(ev);
        if (l)
                *result = rd_kafka_topic_partition_list_copy(l);
        rd_kafka_event_destroy(ev);
        return 1;
}

size_t kr_recent_logs(kr_consumer *c, char *buf, size_t size) {
        size_t len = 0;
        if (size == 0)
                return 0;
        buf[0] = '\0';
        pthread_mutex_lock(&c->log_lock);
        int64_t first = c->log_count > KR_LOG_LINES ? c->log_count - KR_LOG_LINES : 0;
        for (int64_t i = first; i < c->log_count && len + 1 < size; i++) {
                int w = snprintf(buf + len, size - len, "%s%s",
                                 len ? "\n" : "", c->log[i % KR_LOG_LINES]);
                if (w < 0)
                        break;
                len += (size_t)w;
                if (len >= size)
                        len = size - 1;
        }
        pthread_mutex_unlock(&c->log_lock);
        return len;
}

static int kr_pipe(int fds[2]) {
        if (pipe(fds) != 0)
                return -1;
        for (int i = 0; i < 2; i++) {
                int fl = fcntl(fds[i], F_GETFL);
                fcntl(fds[i], F_SETFL, fl | O_NONBLOCK);
                fcntl(fds[i], F_SETFD, FD_CLOEXEC);
        }
        return 0;
}

static void kr_drain(int fd) {
        char buf[256];
        while (read(fd, buf, sizeof(buf)) > 0)
                ;
}

kr_consumer *kr_new(rd_kafka_conf_t *conf, int batch_cap, int log_stderr,
                    int group, char *errstr, size_t errstr_size) {
        kr_consumer *c = calloc(1, sizeof(*c));
        if (!c) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        pthread_mutex_init(&c->log_lock, NULL);
        pthread_mutex_init(&c->rb_lock, NULL);
        c->log_stderr = log_stderr;
        c->io_pipe[0] = c->io_pipe[1] = -1;
        if (kr_pipe(c->io_pipe)) {
                snprintf(errstr, errstr_size, "pipe: %s", strerror(errno));
                goto fail;
        }
        c->cap  = batch_cap > 0 ? (size_t)batch_cap : 1;
        c->rkm  = calloc(c->cap, sizeof(*c->rkm));
        c->msgs = calloc(c->cap, sizeof(*c->msgs));
        if (!c->rkm || !c->msgs) {
                snprintf(errstr, errstr_size, "out of memory");
                goto fail;
        }

        rd_kafka_conf_set_opaque(conf, c);
        rd_kafka_conf_set_error_cb(conf, kr_error_cb);
        rd_kafka_conf_set_log_cb(conf, kr_log_cb);
        if (group)
                rd_kafka_conf_set_rebalance_cb(conf, kr_rebalance_cb);

        c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errstr_size);
        if (!c->rk)
                goto fail; /* conf is still ours: the caller destroys it */

        rd_kafka_poll_set_consumer(c->rk);
        c->q = rd_kafka_queue_get_consumer(c->rk);
        /* not NULL: an empty group.id, which would give no consumer
         * queue, is refused before (Settings.CheckGroup) */
        /* Wake on arrival: librdkafka writes one byte when the queue goes
         * from empty to non-empty. */
        rd_kafka_queue_io_event_enable(c->q, c->io_pipe[1], "1", 1);
        c->commit_q = rd_kafka_queue_new(c->rk);
        return c;

fail:
        if (c->io_pipe[0] >= 0) {
                close(c->io_pipe[0]);
                close(c->io_pipe[1]);
        }
        free(c->rkm);
        free(c->msgs);
        pthread_mutex_destroy(&c->log_lock);
        pthread_mutex_destroy(&c->rb_lock);
        free(c);
        return NULL;
}

int kr_set_topics(kr_consumer *c, int ntopics) {
        c->topics = calloc((size_t)ntopics, sizeof(*c->topics));
        if (!c->topics)
                return -1;
        c->ntopics = ntopics;
        return 0;
}

void kr_set_topic(kr_consumer *c, int i, const char *name, int32_t base,
                  int32_t nparts) {
        c->topics[i].name   = strdup(name);
        c->topics[i].base   = base;
        c->topics[i].nparts = nparts;
}

static int32_t kr_pidx(kr_consumer *c, rd_kafka_topic_t *rkt,
                       int32_t partition) {
        if (!rkt)
                return -1;
        for (int i = 0; i < c->ntopics; i++) {
                kr_topic *t = &c->topics[i];
                if (t->rkt_cache != rkt) {
                        if (t->rkt_cache ||
                            strcmp(t->name, rd_kafka_topic_name(rkt)) != 0)
                                continue;
                        t->rkt_cache = rkt;
                }
                if (partition < 0 || partition >= t->nparts)
                        return -1;
                return t->base + partition;
        }
        return -1;
}

static int kr_hdr_reserve(kr_consumer *c, size_t more) {
        if (c->hdr_len + more <= c->hdr_cap)
                return 0;
        size_t ncap = c->hdr_cap ? c->hdr_cap : 4096;
        while (ncap < c->hdr_len + more)
                ncap *= 2;
        uint8_t *n = realloc(c->hdr, ncap);
        if (!n)
                return -1;
        c->hdr     = n;
        c->hdr_cap = ncap;
        return 0;
}

static void kr_put_i32(uint8_t *p, int32_t v) {
        memcpy(p, &v, 4);
}

/* Header blob of one message: i32 count, then per header
 * i32 name_len, name bytes, i32 value_len (-1 = null), value bytes. */
static void kr_headers(kr_consumer *c, rd_kafka_message_t *m, kr_msg *d) {
        rd_kafka_headers_t *hdrs = NULL;
        d->hdr_len = 0;
        d->hdr_off = 0;
        if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR ||
            !hdrs)
                return;
        size_t cnt = rd_kafka_header_cnt(hdrs);
        size_t need = 4;
        const char *name;
        const void *val;
        size_t vsize;
        for (size_t i = 0;
             rd_kafka_header_get_all(hdrs, i, &name, &val, &vsize) ==
             RD_KAFKA_RESP_ERR_NO_ERROR;
             i++)
                need += 8 + strlen(name) + (val ? vsize : 0);
        if (kr_hdr_reserve(c, need))
                return;
        uint8_t *p = c->hdr + c->hdr_len;
        d->hdr_off = (int64_t)c->hdr_len;
        kr_put_i32(p, (int32_t)cnt);
        p += 4;
        for (size_t i = 0;
             rd_kafka_header_get_all(hdrs, i, &name, &val, &vsize) ==
             RD_KAFKA_RESP_ERR_NO_ERROR;
             i++) {
                int32_t nl = (int32_t)strlen(name);
                kr_put_i32(p, nl);
                memcpy(p + 4, name, (size_t)nl);
                p += 4 + nl;
                if (!val) {
                        kr_put_i32(p, -1);
                        p += 4;
                } else {
                        kr_put_i32(p, (int32_t)vsize);
                        memcpy(p + 4, val, vsize);
                        p += 4 + vsize;
                }
        }
        d->hdr_len = (int32_t)(p - (c->hdr + c->hdr_len));
        c->hdr_len += (size_t)d->hdr_len;
}

void kr_release(kr_consumer *c) {
        for (ssize_t i = 0; i < c->n; i++)
                rd_kafka_message_destroy(c->rkm[i]);
        c->n       = 0;
        c->hdr_len = 0;
}

ssize_t kr_fetch(kr_consumer *c, int max) {
        kr_release(c);
        if (max <= 0 || (size_t)max > c->cap)
                max = (int)c->cap;

        /* Drain the arrival pipe before looking at the queue: an arrival
         * after this point writes again, so no wake-up is lost. */
        kr_drain(c->io_pipe[0]);
        ssize_t n = rd_kafka_consume_batch_queue(c->q, 0, c->rkm, (size_t)max);
        if (n < 0)
                n = 0;
        c->n = n;

        for (ssize_t i = 0; i < n; i++) {
                rd_kafka_message_t *m = c->rkm[i];
                kr_msg *d             = &c->msgs[i];
                d->pidx   = kr_pidx(c, m->rkt, m->partition);
                d->offset = m->offset;
                d->err    = m->err;
                d->hdr_len = 0;
                d->hdr_off = 0;
                d->errstr  = NULL;
                if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                        d->kind = KR_EOF;
                        d->key = d->val = NULL;
                        d->key_len = d->val_len = -1;
                        d->ts = -1;
                        continue;
                }
                if (m->err) {
                        d->kind   = KR_ERR;
                        d->key = d->val = NULL;
                        d->key_len = d->val_len = -1;
                        d->ts     = -1;
                        d->errstr = rd_kafka_message_errstr(m);
                        continue;
                }
                d->kind    = KR_MSG;
                d->key     = (const uint8_t *)m->key;
                d->key_len = m->key ? (int32_t)m->key_len : -1;
                d->val     = (const uint8_t *)m->payload;
                d->val_len = m->payload ? (int32_t)m->len : -1;
                d->ts      = rd_kafka_message_timestamp(m, NULL);
                if (c->want_headers)
                        kr_headers(c, m, d);
        }
        return n;
}

void kr_wake(kr_consumer *c) {
        /* the waiter watches the arrival pipe: a byte there wakes it */
        ssize_t r = write(c->io_pipe[1], "w", 1);
        (void)r;
}

int32_t kr_take_error(kr_consumer *c, char *buf, size_t size, int32_t *fatal) {
        int32_t code = c->last_error_code;
        if (!code)
                return 0;
        snprintf(buf, size, "%s", c->last_error);
        *fatal             = c->last_error_fatal;
        c->last_error_code = 0;
        c->last_error[0]   = '\0';
        return code;
}

void kr_destroy(kr_consumer *c) {
        if (!c)
                return;
        kr_release(c);
        if (c->rk) {
                /* From here the rebalance callback applies every change
                 * itself; changes recorded but never taken by Go are applied
                 * now (librdkafka waits for those calls before it can leave
                 * the group). */
                pthread_mutex_lock(&c->rb_lock);
                c->closing       = 1;
                kr_rebalance *rb = c->rb_head;
                c->rb_head = c->rb_tail = NULL;
                pthread_mutex_unlock(&c->rb_lock);
                while (rb) {
                        kr_rebalance *next = rb->next;
                        kr_apply(c, rb, NULL, 0);
                        kr_rebalance_free(rb);
                        rb = next;
                }
                rd_kafka_queue_io_event_enable(c->q, -1, NULL, 0);
                rd_kafka_queue_destroy(c->q);
                if (c->commit_q)
                        rd_kafka_queue_destroy(c->commit_q);
                /* Assign mode: a fast close. Subscribe mode: leaves the group
                 * (the final revoke is applied by the callback). */
                rd_kafka_consumer_close(c->rk);
                rd_kafka_destroy(c->rk);
        }
        for (int i = 0; i < c->ntopics; i++)
                free(c->topics[i].name);
        free(c->topics);
        close(c->io_pipe[0]);
        close(c->io_pipe[1]);
        free(c->rkm);
        free(c->msgs);
        free(c->hdr);
        pthread_mutex_destroy(&c->log_lock);
        pthread_mutex_destroy(&c->rb_lock);
        free(c);
}

int kr_fix_mmap_threshold(int bytes) {
        return mallopt(M_MMAP_THRESHOLD, bytes);
}

int kr_fix_trim_threshold(int bytes) {
        return mallopt(M_TRIM_THRESHOLD, bytes);
}
