/*
 * bucket.h: where artifacts are kept, behind one small interface.
 *
 * A bucket is named by a URL whose scheme picks its kind: `file:///abs/dir`
 * is a directory laid out like S3 (the key "RUN/TEST/stdout.txt" is the
 * file DIR/RUN/TEST/stdout.txt; providers/local/bucket.c); `s3://name[/prefix]`
 * an S3 bucket (providers/aws/bucket.c, credentials and endpoints from the
 * AWS environment). The kinds are a table defined with the providers
 * (ht_bucket_kinds[], providers/provider.c): libht knows none of them.
 * Keys are relative paths of [A-Za-z0-9._-] and other printable
 * characters, without empty, "." or ".." segments, at most 1024 bytes.
 *
 * Ownership: struct ht_bucket owns what it holds until ht_bucket_release();
 * keys, paths and data passed in are borrowed.
 */
#ifndef HT_BUCKET_H
#define HT_BUCKET_H

#include <stddef.h>
#include <stdint.h>

struct ht_bucket;

/* The error of a put that b->deadline_ms stopped. */
#define HT_BUCKET_LATE "not stored: the invocation's deadline came first"

/* One file of a batch upload: key and path borrowed; ok and error out. */
struct ht_bucket_item {
	const char *key;
	const char *path;
	int ok;
	char error[256];
};

/* What a kind of bucket does; one table per kind. */
struct ht_bucket_ops {
	const char *scheme; /* "file", "s3" */
	/* Opens b (b->url set) from rest, what follows "SCHEME://", with the
	 * defaults of the environment. */
	int (*open)(struct ht_bucket *b, const char *rest);
	/* Stores the file at path under key, streaming it; atomic per key. */
	int (*put_file)(struct ht_bucket *b, const char *key, const char *path);
	int (*put)(struct ht_bucket *b, const char *key, const void *data, size_t len);
	/* Reads key into *out (new string, at most max bytes, 0 for 64 MiB). */
	int (*get)(struct ht_bucket *b, const char *key, size_t max, char **out, size_t *len);
	/* Frees b->priv (NULL: free() it). */
	void (*release)(struct ht_bucket *b);
	/* Stores many files at once (NULL: put_file one after the other);
	 * sets each item's ok and error; returns how many failed. */
	size_t (*put_files)(struct ht_bucket *b, struct ht_bucket_item *items, size_t n);
	/* Where key is, for people (a path, a URL): new string (NULL: the
	 * bucket's URL, '/', the key). */
	char *(*where)(struct ht_bucket *b, const char *key);
};

struct ht_bucket {
	const struct ht_bucket_ops *ops;
	char *url;   /* as given */
	void *priv;  /* what the kind keeps for itself */
	int missing_ok; /* get: a key that does not exist is no error (no
	                   message, errno ENOENT): ht_bucket_get_if_any() */
	int64_t deadline_ms; /* on ht_now_ms()'s clock, 0 for none: puts give up
	                        then (ht-runner's answer must not wait), a file
	                        left unstored with "the deadline came first" */
};

/* The kinds ht_bucket_open() knows, NULL-terminated; defined outside
 * libht, with the providers (providers/provider.c). */
extern const struct ht_bucket_ops *const ht_bucket_kinds[];

/*
 * Opens the bucket named by url with the kind of its scheme and checks
 * that it is usable (a file bucket's directory exists or can be made, and
 * is writable; an s3 bucket has credentials and a region, and makes no
 * request: a missing bucket shows in the first put). Returns 0, or -1
 * after printing why. Release b in both cases.
 */
int ht_bucket_open(struct ht_bucket *b, const char *url);
/*
 * For a kind's own opener (options a URL cannot carry: an AWS profile and
 * endpoints from the configuration): clears b, sets it up for url as a
 * bucket of kind ops, and returns what follows "SCHEME://" (borrowed from
 * b->url); NULL after printing why when url is not of that scheme.
 */
const char *ht_bucket_begin(struct ht_bucket *b, const char *url, const struct ht_bucket_ops *ops);
void ht_bucket_release(struct ht_bucket *b);
/* 1 when key is a valid key (see above). */
int ht_bucket_key_valid(const char *key);
/* These check the key and then call the bucket's operation. Each returns
 * 0, or -1 after printing why. */
int ht_bucket_put_file(struct ht_bucket *b, const char *key, const char *path);
int ht_bucket_put(struct ht_bucket *b, const char *key, const void *data, size_t len);
/* ht_bucket_get() leaves errno ENOENT when there is no such key, EACCES
 * when access was refused. */
int ht_bucket_get(struct ht_bucket *b, const char *key, size_t max, char **out, size_t *len);
/* The same, but a key that does not exist returns -1 with errno ENOENT
 * and prints nothing (a first run's history). */
int ht_bucket_get_if_any(struct ht_bucket *b, const char *key, size_t max, char **out, size_t *len);
/*
 * Stores items[0..n) (key <- file at path), in parallel where the bucket
 * can (s3: up to 16 at once, each retried), and sets each item's ok and,
 * when it failed, its error (a line for people). Invalid keys fail alone.
 * Returns how many failed; prints nothing but debug lines.
 */
size_t ht_bucket_put_files(struct ht_bucket *b, struct ht_bucket_item *items, size_t n);
/* Where key is in b, for messages: "/dir/RUN/x.json", "s3://b/RUN/x.json".
 * New string. */
char *ht_bucket_where(struct ht_bucket *b, const char *key);
/* The content type of a key by its extension: text/plain for .txt and
 * .log, application/json, application/xml (JUnit), text/html, image/png,
 * ...; application/octet-stream when unknown. Static string. */
const char *ht_bucket_content_type(const char *key);

#endif
