/*
 * oci.h: the local OCI image store, a standard OCI image layout directory
 * (https://github.com/opencontainers/image-spec/blob/main/image-layout.md):
 *
 *   DIR/oci-layout        {"imageLayoutVersion":"1.0.0"}
 *   DIR/index.json        the tags: an image index whose manifests carry the
 *                         annotation org.opencontainers.image.ref.name
 *   DIR/blobs/sha256/HEX  content-addressed blobs (layers, configs, manifests)
 *
 * skopeo (oci:DIR:TAG) and umoci (--image DIR:TAG) read it as it is.
 * lib/oci.c has the layout and the blobs, lib/oci-index.c the tags and
 * the gc, lib/oci-image.c descriptors, manifests, configs and images.
 *
 * Ownership: struct ht_oci_store, struct ht_oci_blob_writer and struct
 * ht_oci_image own what they hold and are freed by their close / abort /
 * release functions. json_t * results are new references; json_t *
 * arguments are borrowed. Functions returning char * return a new string
 * the caller frees. Every function returns 0 on success and -1 after
 * printing the reason with ht_error(), unless its comment says otherwise.
 *
 * Safety: a blob is only ever renamed to blobs/sha256/HEX after its bytes
 * were hashed to HEX, so a name in the store is always its content (unless
 * someone edits the files by hand; ht_oci_read_blob and ht_oci_verify_blob
 * detect that). index.json is rewritten under a lock (flock on
 * DIR/index.json.lock) with a temporary file renamed into place, so
 * concurrent ht_oci_tag calls from several processes do not lose updates.
 * A process that opens the store to write holds DIR/gc.lock shared until
 * it closes the store, so from its first blob to its tag; ht_oci_gc takes
 * it exclusively, so it never removes a blob that a writer has written, or
 * found already there and means to use, but not tagged yet.
 */
#ifndef HT_OCI_H
#define HT_OCI_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "util.h"

/* Media types. */
#define HT_OCI_MT_MANIFEST   "application/vnd.oci.image.manifest.v1+json"
#define HT_OCI_MT_INDEX      "application/vnd.oci.image.index.v1+json"
#define HT_OCI_MT_CONFIG     "application/vnd.oci.image.config.v1+json"
#define HT_OCI_MT_LAYER      "application/vnd.oci.image.layer.v1.tar"
#define HT_OCI_MT_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define HT_DOCKER_MT_MANIFEST   "application/vnd.docker.distribution.manifest.v2+json"
#define HT_DOCKER_MT_LIST       "application/vnd.docker.distribution.manifest.list.v2+json"
#define HT_DOCKER_MT_CONFIG     "application/vnd.docker.container.image.v1+json"
#define HT_DOCKER_MT_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"

/* The annotation that names a tag in index.json. */
#define HT_OCI_REF_NAME "org.opencontainers.image.ref.name"
/* The store's default directory, relative to the project root. */
#define HT_OCI_DEFAULT_DIR ".hypertest/oci"
/* Largest manifest, index or config read into memory: 4 MiB. */
#define HT_OCI_JSON_MAX (4 * 1024 * 1024)
/* The lock writers hold shared and ht_oci_gc exclusively, in DIR. */
#define HT_OCI_GC_LOCK "gc.lock"

struct ht_oci_store {
	char *dir;    /* the layout's directory */
	char *blobs;  /* DIR/blobs/sha256 */
	int writing;  /* 1 when opened to write: gc_lock is held shared */
	int gc_lock;  /* the descriptor of DIR/gc.lock when writing */
};

/*
 * Opens the layout at dir. With create, the store is opened to write:
 * makes the directory, oci-layout, an empty index.json and blobs/sha256/
 * when they are missing, and takes DIR/gc.lock shared until ht_oci_close
 * (waiting while an ht_oci_gc runs). Open the store this way before
 * writing blobs or relying on blobs already there for an image to tag:
 * a gc never runs between that and the tag. Without create, a directory
 * that is not an OCI layout is an error. dir is copied.
 */
int ht_oci_open(struct ht_oci_store *s, const char *dir, int create);
/* Frees what s holds and drops its lock. Safe on a zeroed or closed store. */
void ht_oci_close(struct ht_oci_store *s);
/*
 * Opens DIR/name (creating it) and flock()s it with how (LOCK_SH or
 * LOCK_EX, maybe with LOCK_NB). Returns the descriptor, which the caller
 * closes to unlock. With LOCK_NB, a lock held by someone else returns -1
 * with errno EWOULDBLOCK and prints nothing.
 */
int ht_oci_lock(struct ht_oci_store *s, const char *name, int how);

/* --- blobs ------------------------------------------------------------------ */

/*
 * A blob being written: bytes go to a temporary file inside blobs/sha256/
 * while they are hashed; commit renames it to its digest only when the
 * digest (and size) match what was expected. Nothing ever appears under a
 * digest name that does not match its content.
 */
struct ht_oci_blob_writer {
	struct ht_oci_store *store;    /* borrowed */
	char expected[HT_DIGEST_LEN + 1]; /* "" when none was given */
	int64_t expected_size;         /* -1 when unknown */
	int64_t size;                  /* bytes in the blob so far, resumed ones included */
	int64_t resumed;               /* bytes found in a partial file by ht_oci_blob_resume */
	char *tmp;                     /* the temporary file's path */
	int fd;
	int partial;                   /* tmp is the resumable .partial-HEX of expected */
	struct ht_sha256 hash;
};

/*
 * Starts a blob. expected_digest (may be NULL) and expected_size (-1 when
 * unknown) are checked at commit and while writing (more bytes than
 * expected_size is an error at once). Starts from nothing even when a
 * partial download of the same digest exists (which is then discarded).
 */
int ht_oci_blob_begin(struct ht_oci_store *s, struct ht_oci_blob_writer *w,
		      const char *expected_digest, int64_t expected_size);
/*
 * Like ht_oci_blob_begin with an expected digest (required), but keeps the
 * bytes of a partial download left by ht_oci_blob_suspend
 * (blobs/sha256/.partial-HEX): they are hashed again and w->resumed (=
 * w->size) says how many there are, so a downloader can ask for
 * "Range: bytes=RESUMED-". When the server answers with the whole blob
 * instead, call ht_oci_blob_restart. When another process holds the
 * partial file, this starts from nothing in a private temporary file.
 */
int ht_oci_blob_resume(struct ht_oci_store *s, struct ht_oci_blob_writer *w,
		       const char *expected_digest, int64_t expected_size);
/* Throws away what was written so far (w->size and w->resumed become 0). */
int ht_oci_blob_restart(struct ht_oci_blob_writer *w);
/* Appends n bytes. */
int ht_oci_blob_write(struct ht_oci_blob_writer *w, const void *p, size_t n);
/*
 * Finishes the blob: syncs it, checks size and digest against the expected
 * ones, and renames it to blobs/sha256/HEX (a blob already there is kept).
 * Writes the digest to digest_out and the size to *size_out (both may be
 * NULL). On a mismatch prints "blob digest mismatch: expected X, got Y"
 * (or the sizes), removes the temporary file, and returns -1. Either way
 * the writer is finished afterwards.
 */
int ht_oci_blob_commit(struct ht_oci_blob_writer *w, char digest_out[HT_DIGEST_LEN + 1],
		       int64_t *size_out);
/* Removes the temporary file and finishes the writer. Safe to call twice. */
void ht_oci_blob_abort(struct ht_oci_blob_writer *w);
/*
 * Finishes the writer but keeps what was written as a partial download
 * that ht_oci_blob_resume can go on with (for an interrupted transfer);
 * the same as ht_oci_blob_abort when the writer is not resumable.
 */
void ht_oci_blob_suspend(struct ht_oci_blob_writer *w);

/* Stores a blob from memory; digest_out (may be NULL) gets its digest. */
int ht_oci_put_blob(struct ht_oci_store *s, const void *buf, size_t len,
		    char digest_out[HT_DIGEST_LEN + 1]);
/*
 * Copies the blob digest from the store from into the store to (nothing
 * to do when it is there already), checking its digest, and its size
 * unless size is -1, as it is written.
 */
int ht_oci_copy_blob(struct ht_oci_store *from, struct ht_oci_store *to, const char *digest,
		     int64_t size);
/*
 * 1 when the blob is in the store (its size in *size, may be NULL), 0 when
 * it is not, -1 on a malformed digest or an I/O error. Does not hash it.
 */
int ht_oci_has_blob(struct ht_oci_store *s, const char *digest, int64_t *size);
/* The path of a blob (which may not exist); NULL after an error when the
 * digest is malformed. New string. */
char *ht_oci_blob_path(struct ht_oci_store *s, const char *digest);
/*
 * Reads a whole blob (at most max bytes; 0 for HT_OCI_JSON_MAX) into *buf
 * (new, NUL-terminated) and checks it hashes to digest: a corrupted blob is
 * reported as "blob 'sha256:...' is corrupted: its content hashes to
 * sha256:..." and returns -1.
 */
int ht_oci_read_blob(struct ht_oci_store *s, const char *digest, size_t max,
		     char **buf, size_t *len);
/* Hashes a blob on disk and checks it against its name (and *size). */
int ht_oci_verify_blob(struct ht_oci_store *s, const char *digest, int64_t *size);
/* Reads a blob that holds JSON (a manifest, index, config) and checks its
 * digest; new reference in *out. */
int ht_oci_read_json(struct ht_oci_store *s, const char *digest, json_t **out);
/* Serialises j compactly with sorted keys and stores it; digest_out and
 * *size_out (may be NULL) describe the blob. */
int ht_oci_put_json(struct ht_oci_store *s, json_t *j, char digest_out[HT_DIGEST_LEN + 1],
		    int64_t *size_out);

/* --- descriptors, refs --------------------------------------------------- */

/* What points at a blob. media_type is owned (NULL when unknown). */
struct ht_oci_desc {
	char digest[HT_DIGEST_LEN + 1];
	char *media_type;
	int64_t size;
};
void ht_oci_desc_release(struct ht_oci_desc *d);
/* Reads {"mediaType","digest","size"} from a descriptor object; where names
 * it in messages ("manifest: layers[2]"). */
int ht_oci_desc_parse(json_t *j, const char *where, struct ht_oci_desc *d);
/* A new {"mediaType","digest","size"} object. */
json_t *ht_oci_desc_json(const char *media_type, const char *digest, int64_t size);
/*
 * Adds size to *sum unless the result would be over INT64_MAX, or either is
 * negative: then returns -1 (printing nothing) and leaves *sum alone. For
 * every sum of sizes that come from a manifest or an index, which are
 * untrusted.
 */
int ht_oci_size_add(int64_t *sum, int64_t size);

/*
 * 1 when name is a valid tag for index.json: 1 to 128 characters of
 * [A-Za-z0-9_.:/@-], not starting with '.', '-' or ':'. The tag may carry
 * a repository ("my-tests:latest"); it is kept as it is.
 */
int ht_oci_tag_valid(const char *name);
/*
 * Points the tag name at a manifest (replacing the tag's previous target),
 * rewriting index.json atomically under the lock. The blob must be in the
 * store. platform (borrowed, may be NULL) is recorded in the descriptor.
 */
int ht_oci_tag(struct ht_oci_store *s, const char *name, const char *manifest_digest,
	       const char *media_type, int64_t size, json_t *platform);
/* Removes a tag; 1 when it was there, 0 when it was not, -1 on error. */
int ht_oci_untag(struct ht_oci_store *s, const char *name);
/*
 * Resolves a tag, or a "sha256:..." digest of a blob in the store, to the
 * descriptor of its manifest or index (for a digest, the media type is read
 * from the blob). Unknown names print "no image 'NAME' in 'DIR'" and return
 * -1 with errno ENOENT. d is filled in; release it.
 */
int ht_oci_resolve(struct ht_oci_store *s, const char *name_or_digest, struct ht_oci_desc *d);
/* index.json as JSON: a new reference to the whole index. */
int ht_oci_read_index(struct ht_oci_store *s, json_t **out);
/*
 * Removes blobs not reachable from index.json (manifests -> config and
 * layers; indexes -> manifests), and temporary files older than a day.
 * *removed and *bytes (may be NULL) count what went. Holds DIR/gc.lock
 * exclusively (and index.json's lock) while it works: it first waits, with
 * a warning, until the processes that opened the store to write have
 * closed it, and writers that open it meanwhile wait for the gc. When s
 * itself was opened to write, its own shared lock is given up for the
 * gc and taken again afterwards.
 */
int ht_oci_gc(struct ht_oci_store *s, long *removed, int64_t *bytes);

/* --- images ---------------------------------------------------------------- */

/* One layer of an image: the compressed blob and the uncompressed diff_id. */
struct ht_oci_layer {
	struct ht_oci_desc desc;
	char diff_id[HT_DIGEST_LEN + 1]; /* "" when the config does not say */
};

/* An image read from the store: a single-platform manifest and its config. */
struct ht_oci_image {
	struct ht_oci_desc manifest_desc; /* the manifest blob */
	json_t *manifest;                 /* owned */
	struct ht_oci_desc config_desc;
	json_t *config;                   /* owned; NULL when not loaded */
	struct ht_oci_layer *layers;      /* owned array */
	size_t nlayers;
	int64_t size;                     /* the config's and the layers' sizes added up */
};
void ht_oci_image_init(struct ht_oci_image *img);
void ht_oci_image_release(struct ht_oci_image *img);

/*
 * Parses a manifest (OCI image manifest or Docker schema 2) given as JSON:
 * fills img->manifest (takes a new reference of manifest), config_desc and
 * layers (diff_ids are left empty) and img->size. where names it in
 * messages. Refuses indexes and manifest lists ("is an index, not a
 * manifest"), and sizes that add up to more than INT64_MAX.
 */
int ht_oci_manifest_parse(json_t *manifest, const char *where, struct ht_oci_image *img);
/*
 * Reads the config blob named by img->config_desc from the store into
 * img->config and fills each layer's diff_id from rootfs.diff_ids
 * (refusing a count that does not match the layers).
 */
int ht_oci_image_load_config(struct ht_oci_store *s, struct ht_oci_image *img);
/* Copies the blobs of img (config, layers, then the manifest) from the
 * store from into the store to, checking digests and sizes. */
int ht_oci_copy_image(struct ht_oci_store *from, struct ht_oci_store *to, const struct ht_oci_image *img);

/*
 * Editing an image config (borrowed, changed in place). ht_oci_config_get
 * returns config.config.KEY (borrowed), made an empty object or array
 * (array set) when it is missing or of another type, config.config too.
 * ht_oci_config_set_env sets KEY=VALUE in config.config.Env, replacing an
 * earlier KEY unless keep is set. ht_oci_config_add_layer appends a layer
 * on top: its diff_id to rootfs.diff_ids, {created, created_by} to history.
 */
json_t *ht_oci_config_get(json_t *config, const char *key, int array);
void ht_oci_config_set_env(json_t *config, const char *key, const char *value, int keep);
void ht_oci_config_add_layer(json_t *config, const char *diff_id, const char *created,
			     const char *created_by);

/*
 * Picks from an index (or Docker manifest list) the manifest for os/arch
 * (variant may be NULL: any). Returns 1 with *d filled in, 0 when none
 * matches (nothing printed), -1 on a malformed index.
 */
int ht_oci_index_pick(json_t *index, const char *os, const char *arch, const char *variant,
		      struct ht_oci_desc *d);
/*
 * Loads the image named by ref (a tag or a digest): resolves it; when it
 * is an index, picks the manifest for linux and this machine's
 * architecture; parses the manifest and reads its config.
 */
int ht_oci_image_load(struct ht_oci_store *s, const char *ref, struct ht_oci_image *img);
/* The OCI architecture name of this build: "amd64", "arm64", ... */
const char *ht_oci_host_arch(void);

#endif
