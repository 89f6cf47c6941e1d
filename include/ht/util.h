/*
 * util.h: small pieces every part of libht needs: a growable buffer with a
 * size limit, SHA-256 digests, random ids, atomic file writes, clocks.
 *
 * Ownership: functions returning char * return a new malloc'd string the
 * caller frees; const char * arguments are borrowed.
 */
#ifndef HT_UTIL_H
#define HT_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A growable byte buffer, always NUL-terminated, with a maximum size (0 for
 * none) so that reading untrusted input cannot take all memory. */
struct ht_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};
#define HT_BUF_INIT { NULL, 0, 0, 0 }
void ht_buf_init(struct ht_buf *b, size_t max);
/* Frees what b holds and re-initialises it (keeping max). */
void ht_buf_release(struct ht_buf *b);
/* Appends; returns -1 (errno EFBIG) when max would be exceeded, ENOMEM. */
int ht_buf_add(struct ht_buf *b, const void *p, size_t n);
int ht_buf_addstr(struct ht_buf *b, const char *s);
int ht_buf_addf(struct ht_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ht_buf_reset(struct ht_buf *b);
/* Hands the string to the caller (who frees it) and re-initialises b. */
char *ht_buf_detach(struct ht_buf *b);

/* Allocation that cannot fail: aborts with a message on out-of-memory. */
void *ht_xmalloc(size_t n);
void *ht_xcalloc(size_t n, size_t size);
void *ht_xrealloc(void *p, size_t n);
char *ht_xstrdup(const char *s);
char *ht_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --- digests --------------------------------------------------------------- */
#define HT_SHA256_HEX_LEN 64
#define HT_DIGEST_LEN (7 + HT_SHA256_HEX_LEN) /* "sha256:" + hex */
struct ht_sha256 { void *ctx; };
int ht_sha256_init(struct ht_sha256 *h);
int ht_sha256_update(struct ht_sha256 *h, const void *p, size_t n);
/* Writes "sha256:<hex>" and a NUL into out (HT_DIGEST_LEN + 1 bytes) and
 * frees the context. */
int ht_sha256_final(struct ht_sha256 *h, char out[HT_DIGEST_LEN + 1]);
/* The len bytes at md as 2 * len lower-case hex digits and a NUL in out. */
void ht_hex(const unsigned char *md, size_t len, char *out);
/* Digest of a buffer in "sha256:<hex>" form. */
int ht_sha256_digest(const void *p, size_t n, char out[HT_DIGEST_LEN + 1]);
/* Bare lowercase hex digest, as SigV4 payload hashes want. */
int ht_sha256_hex(const void *p, size_t n, char out[HT_SHA256_HEX_LEN + 1]);
/* Digest of a whole file; -1 with a message when it cannot be read. */
int ht_sha256_file(const char *path, char out[HT_DIGEST_LEN + 1]);
/* 1 when s is a well-formed "sha256:<64 lowercase hex>". */
int ht_digest_valid(const char *s);

/* --- ids ------------------------------------------------------------------- */
#define HT_UUID_LEN 36
/* A random (version 4) UUID from OpenSSL's CSPRNG, lowercase. */
int ht_uuid4(char out[HT_UUID_LEN + 1]);

/* --- files ----------------------------------------------------------------- */
/*
 * Writes data to path atomically: a temporary file in the same directory,
 * fsync'd, then renamed over path. Never leaves a partial path behind.
 */
int ht_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);
/*
 * An atomic writer for content produced piece by piece: open gives a FILE*
 * on a new temporary name (PATH.tmp.XXXXXX, created with mode less the
 * umask, which it never changes: safe in threads); commit flushes, syncs
 * (unless no_sync is set: for copies that are cheap to make again, such
 * as artifacts) and renames it into place; abort removes it. A path that
 * names something other than a regular file or a link to one (/dev/null,
 * a FIFO, /dev/stdout on a pipe) is opened and written as it is, never
 * replaced: renaming over a device would destroy it (tmp stays NULL
 * then); a link to a regular file has its target replaced, not the link.
 */
struct ht_atomic_file {
	char *path;
	char *tmp;
	void *fp;     /* FILE * */
	int no_sync;  /* set after open to skip fsync: atomic, not durable */
};
int ht_atomic_open(struct ht_atomic_file *af, const char *path, mode_t mode);
int ht_atomic_commit(struct ht_atomic_file *af);
void ht_atomic_abort(struct ht_atomic_file *af);
/* mkdir -p; mode for the directories it creates. */
int ht_mkdir_p(const char *path, mode_t mode);
/* rm -rf; refuses "" and "/". */
int ht_remove_tree(const char *path);
/* rm -rf of name in the directory at (AT_FDCWD or a descriptor), never
 * following a symlink; directories without write permission are made
 * writable first. Returns 0, or -1 with errno set (no message). */
int ht_remove_at(int at, const char *name);
/* Reads a whole file into *out (new, NUL-terminated), at most max bytes (0
 * for no limit). Returns 0, or -1 with errno set (EFBIG when too large). */
int ht_read_file(const char *path, size_t max, char **out, size_t *len);
/* The full path of the program prog in $PATH (an empty entry is the
 * current directory), a regular file we may execute; prog itself when it
 * has a '/'. New string, or NULL when there is none. */
char *ht_which(const char *prog);
/* The same, searching path (a PATH value; NULL: nothing) instead. */
char *ht_which_in(const char *path, const char *prog);
/* Joins two path pieces with one '/'; new string. */
char *ht_path_join(const char *a, const char *b);
/* path as is when it is absolute, else joined to base; new string. */
char *ht_path_resolve(const char *base, const char *path);
/* The directory of the running program (/proc/self/exe), a new string,
 * or NULL when it cannot be read. */
char *ht_self_dir(void);

/* --- time ------------------------------------------------------------------ */
/* Milliseconds of CLOCK_MONOTONIC, for durations and deadlines. */
int64_t ht_now_ms(void);
/* Milliseconds since the Unix epoch, for timestamps. */
int64_t ht_wall_ms(void);
/* Writes an RFC 3339 UTC time with milliseconds ("2026-11-25T16:24:58.123Z"). */
void ht_format_time(int64_t wall_ms, char out[32]);
/* Sleeps for ms milliseconds, going on after signals. */
void ht_sleep_ms(int64_t ms);

/* --- strings --------------------------------------------------------------- */
/* Length of the valid UTF-8 sequence at p (at most n bytes; overlong
 * forms and surrogates are invalid), or 0. */
size_t ht_utf8_seq(const unsigned char *p, size_t n);
/*
 * Makes s valid UTF-8 in place: every byte that does not start a valid
 * sequence becomes '?'. With oneline, control characters (newlines
 * included) become spaces. Returns s.
 */
char *ht_utf8_clean(char *s, size_t len, int oneline);
/* Decodes base64 text into a new NUL-terminated buffer (which may hold NUL
 * bytes: *len, when not NULL, gets its length); NULL when s is not base64. */
char *ht_base64_decode(const char *s, size_t *len);
/* Decodes base64 text that must be text: a new string, or NULL when s is
 * not base64 or holds a NUL byte (a token, a "user:password"); what was
 * decoded is wiped before it is freed, as it may be a secret. */
char *ht_base64_decode_text(const char *s);
/* n bytes of p in base64, with padding: a new string. */
char *ht_base64_encode(const void *p, size_t n);
int ht_starts_with(const char *s, const char *prefix);
int ht_ends_with(const char *s, const char *suffix);
/* Parses a whole decimal number in [min, max]; -1 when s is not one. */
int ht_parse_long(const char *s, long min, long max, long *out);
/* Parses a size in bytes: a whole number with an optional K, M or G suffix
 * (powers of 1024, "KiB"/"KB"/"K" alike). Returns 0, or -1 when s is not
 * one or is larger than 2^62. */
int ht_parse_size(const char *s, int64_t *out);

#endif
