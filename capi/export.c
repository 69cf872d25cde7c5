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
