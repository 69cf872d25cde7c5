#include <errno.h>
#include <stdlib.h>
#include "export.h"
#include "_cgo_export.h"

const int64_t kk_zero_region[8] = {0};

void kk_release_array(struct ArrowArray* a) {
  if (a == NULL || a->release == NULL) {
    return;
  }
  kk_export* e = (kk_export*)a->private_data;
  for (int64_t i = 0; i < a->n_children; i++) {
    struct ArrowArray* c = a->children[i];
    if (c->release != NULL) {
      c->release(c); /* not moved out: still ours */
    }
  }
  a->release = NULL;
  if (__atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL) == 0) {
    kafkarsReleaseExport(e->handle);
    free(e);
  }
}

void kk_set_release(struct ArrowArray* a) { a->release = kk_release_array; }

static int kk_stream_get_schema(struct ArrowArrayStream* s, struct ArrowSchema* out) {
  return kafkarsStreamSchema(s, out);
}

static int kk_stream_get_next(struct ArrowArrayStream* s, struct ArrowArray* out) {
  return kafkarsStreamNext(s, out);
}

static const char* kk_stream_last_error(struct ArrowArrayStream* s) {
  return ((kk_stream*)s->private_data)->last_error;
}

static void kk_stream_release(struct ArrowArrayStream* s) {
  if (s == NULL || s->release == NULL) {
    return;
  }
  kk_stream* p = (kk_stream*)s->private_data;
  kafkarsStreamRelease(p->handle);
  free(p->last_error);
  free(p);
  s->private_data = NULL;
  s->release = NULL;
}

int kk_stream_init(struct ArrowArrayStream* out, uintptr_t handle) {
  kk_stream* p = (kk_stream*)calloc(1, sizeof(kk_stream));
  if (p == NULL) {
    return ENOMEM;
  }
  p->handle = handle;
  out->get_schema = kk_stream_get_schema;
  out->get_next = kk_stream_get_next;
  out->get_last_error = kk_stream_last_error;
  out->release = kk_stream_release;
  out->private_data = p;
  return 0;
}
