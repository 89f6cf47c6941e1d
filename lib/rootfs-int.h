/*
 * rootfs-int.h: what lib/rootfs.c (the cache of unpacked roots) and
 * lib/rootfs-layer.c (applying one layer) share. Not API.
 */
#ifndef HT_ROOTFS_INT_H
#define HT_ROOTFS_INT_H

#include <stdint.h>

#include <archive.h>
#include <jansson.h>

#include "ht/oci.h"
#include "ht/util.h"

/* The state of one unpack: the tree, the limits and the layer being read. */
struct unpack {
	int rootfd;                      /* the tree's directory */
	const char *tree;                /* borrowed: its path, for messages */
	const struct ht_oci_layer *layer; /* borrowed: the layer being read */
	json_t *seen;                    /* names written by this layer (a set) */
	int64_t max_size, max_entries;
	int64_t size, entries;           /* so far, over all layers */
	int64_t claimed;                 /* the sizes regular file entries claim, all layers */
	int same_owner;
	int warned_device;
	const char *code;                /* error code of the first failure */
	int exit;

	/* The blob and its hash. */
	int blobfd;
	struct ht_sha256 blob_hash;
	int64_t blob_bytes;
	unsigned char buf[64 * 1024];
	/* The uncompressed stream and its hash. */
	struct archive *raw;
	struct ht_sha256 diff_hash;
	int too_large;
};

/* Keeps the first failure's error code and exit code. */
void ht_rootfs_fail_as(struct unpack *u, const char *code, int exit_code);
/* Applies layer l of store s onto u's tree, checking its digests and the
 * limits. Returns 0, or -1 after printing why (u->code, u->exit set). */
int ht_rootfs_unpack_layer(struct ht_oci_store *s, struct unpack *u, const struct ht_oci_layer *l);

#endif
