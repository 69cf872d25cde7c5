/*
 * export.h: the library's own Arrow C Data Interface exporter (export.c,
 * export.go). Internal to libkafkars; not part of kafkars.h.
 *
 * One export is one C block: a header (a reference count and the Go handle
 * of the record batch whose buffers the arrays point at), then every child
 * ArrowArray of the tree, then the child-pointer and buffer-pointer arrays.
 * Every array of the tree (the root, which lives in the caller's struct,
 * and each child) holds one reference; its release callback drops it, after
 * releasing the children it still owns. The last one releases the batch
 * (one call into Go) and frees the block. A consumer may move a child out
 * and release the parent first, as the C Data Interface allows: the moved
 * child keeps the block and the batch alive.
 */
#ifndef KAFKARS_EXPORT_H
#define KAFKARS_EXPORT_H

#include <stdint.h>
#define KAFKARS_NO_PROTOTYPES
#include "kafkars.h"

typedef struct kk_export {
  int64_t refs;      /* arrays of the tree not yet released */
  uintptr_t handle;  /* cgo.Handle of the arrow.RecordBatch */
} kk_export;

/* The release callback of every exported array. */
void kk_release_array(struct ArrowArray* a);

/* A non-NULL address for empty buffers (some importers reject NULL). */
extern const int64_t kk_zero_region[8];

/* Installs kk_release_array (taking the address in C, where cgo allows it). */
void kk_set_release(struct ArrowArray* a);

/*
 * A stream (ArrowArrayStream) over a Go array.RecordReader: its callbacks
 * call into Go (export.go) with the reader's handle; each batch goes out
 * through the exporter above. last_error is the message of the failure the
 * last callback returned (owned here, freed on the next failure or release).
 */
typedef struct kk_stream {
  uintptr_t handle;  /* cgo.Handle of the array.RecordReader */
  char* last_error;
} kk_stream;

/* Fills out (zero-initialised) with the callbacks and a new kk_stream. 0 on
 * success, ENOMEM if the private struct could not be allocated. */
int kk_stream_init(struct ArrowArrayStream* out, uintptr_t handle);

#endif
