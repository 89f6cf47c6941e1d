/*
 * util.c: buffers, digests, ids, atomic files, clocks.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ht/diag.h"
#include "ht/util.h"

/* --- allocation ------------------------------------------------------------ */

static void oom(size_t n)
{
	fprintf(stderr, "%s: fatal: out of memory (%zu bytes)\n", ht_progname, n);
	abort();
}

void *ht_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *ht_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom(n * size);
	return p;
}

void *ht_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom(n);
	return q;
}

char *ht_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		oom(strlen(s));
	return p;
}

char *ht_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		oom(0);
	va_end(ap);
	return s;
}

/* --- buffers --------------------------------------------------------------- */

void ht_buf_init(struct ht_buf *b, size_t max)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

void ht_buf_release(struct ht_buf *b)
{
	free(b->data);
	ht_buf_init(b, b->max);
}

void ht_buf_reset(struct ht_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

int ht_buf_add(struct ht_buf *b, const void *p, size_t n)
{
	if (b->max && b->len + n > b->max) {
		errno = EFBIG;
		return -1;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = ht_xrealloc(b->data, cap);
		b->cap = cap;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int ht_buf_addstr(struct ht_buf *b, const char *s)
{
	return ht_buf_add(b, s, strlen(s));
}

int ht_buf_addf(struct ht_buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		oom(0);
	va_end(ap);
	r = ht_buf_addstr(b, s);
	free(s);
	return r;
}

char *ht_buf_detach(struct ht_buf *b)
{
	char *s = b->data ? b->data : ht_xstrdup("");

	ht_buf_init(b, b->max);
	return s;
}

/* --- digests --------------------------------------------------------------- */

int ht_sha256_init(struct ht_sha256 *h)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		h->ctx = NULL;
		return ht_error("cannot initialise SHA-256");
	}
	h->ctx = ctx;
	return 0;
}

int ht_sha256_update(struct ht_sha256 *h, const void *p, size_t n)
{
	return EVP_DigestUpdate(h->ctx, p, n) == 1 ? 0 : -1;
}

void ht_hex(const unsigned char *md, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * len] = '\0';
}

int ht_sha256_final(struct ht_sha256 *h, char out[HT_DIGEST_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	int ok = EVP_DigestFinal_ex(h->ctx, md, &len) == 1;

	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
	if (!ok)
		return -1;
	memcpy(out, "sha256:", 7);
	ht_hex(md, len, out + 7);
	return 0;
}

int ht_sha256_digest(const void *p, size_t n, char out[HT_DIGEST_LEN + 1])
{
	struct ht_sha256 h;

	if (ht_sha256_init(&h) < 0)
		return -1;
	ht_sha256_update(&h, p, n);
	return ht_sha256_final(&h, out);
}

int ht_sha256_hex(const void *p, size_t n, char out[HT_SHA256_HEX_LEN + 1])
{
	char d[HT_DIGEST_LEN + 1];

	if (ht_sha256_digest(p, n, d) < 0)
		return -1;
	memcpy(out, d + 7, HT_SHA256_HEX_LEN + 1);
	return 0;
}

int ht_sha256_file(const char *path, char out[HT_DIGEST_LEN + 1])
{
	struct ht_sha256 h;
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return ht_error("cannot open '%s': %s", path, strerror(errno));
	if (ht_sha256_init(&h) < 0) {
		close(fd);
		return -1;
	}
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ht_error("cannot read '%s': %s", path, strerror(errno));
			close(fd);
			ht_sha256_final(&h, out);
			return -1;
		}
		ht_sha256_update(&h, buf, (size_t)n);
	}
	close(fd);
	return ht_sha256_final(&h, out);
}

int ht_digest_valid(const char *s)
{
	size_t i;

	if (!s || strncmp(s, "sha256:", 7) != 0 || strlen(s) != HT_DIGEST_LEN)
		return 0;
	for (i = 7; i < HT_DIGEST_LEN; i++)
		if (!strchr("0123456789abcdef", s[i]))
			return 0;
	return 1;
}

/* --- ids ------------------------------------------------------------------- */

int ht_uuid4(char out[HT_UUID_LEN + 1])
{
	unsigned char b[16];
	char hex[33];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return ht_error("cannot get random bytes from OpenSSL");
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	ht_hex(b, 16, hex);
	snprintf(out, HT_UUID_LEN + 1, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
	return 0;
}

/* --- files ----------------------------------------------------------------- */

/*
 * Makes path's missing parents, deepest first from the one that exists:
 * a few levels under an existing directory cost a mkdir each, not one
 * per component from the root (ht-runner makes a work directory three
 * levels deep for every test). Returns 0, or -1 with errno set and
 * nothing printed; *failed is the component that could not be made.
 */
static int mkdir_parents(char *p, mode_t mode, char **failed)
{
	char *slash;
	int err;

	if (mkdir(p, mode) == 0)
		return 0;
	if (errno == EEXIST)
		return 0; /* a directory, or the final check says it is not */
	err = errno;
	slash = strrchr(p, '/');
	if (err != ENOENT || !slash || slash == p) {
		*failed = p;
		errno = err;
		return -1;
	}
	*slash = '\0';
	if (mkdir_parents(p, mode, failed) < 0)
		return -1; /* *failed points at the shorter p: left cut there */
	*slash = '/';
	if (mkdir(p, mode) == 0 || errno == EEXIST)
		return 0;
	*failed = p;
	return -1;
}

int ht_mkdir_p(const char *path, mode_t mode)
{
	char *p, *failed = NULL;
	struct stat st;
	int err;

	if (!*path)
		return ht_error("cannot create directory '': %s", strerror(ENOENT));
	/* Most calls find the parents there already: one system call. */
	if (mkdir(path, mode) == 0)
		return 0;
	err = errno;
	if (err == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	p = ht_xstrdup(path);
	while (strlen(p) > 1 && p[strlen(p) - 1] == '/')
		p[strlen(p) - 1] = '\0';
	errno = err;
	if (err == ENOENT && strrchr(p, '/') && strrchr(p, '/') != p) {
		/* Its parent is missing: make that, then path (tried once already). */
		char *slash = strrchr(p, '/');

		*slash = '\0';
		if (mkdir_parents(p, mode, &failed) == 0) {
			*slash = '/';
			if (mkdir(p, mode) < 0 && errno != EEXIST)
				failed = p;
		}
	} else if (err != EEXIST) {
		failed = p;
	}
	if (failed) {
		ht_error("cannot create directory '%s': %s", failed, strerror(errno));
		free(p);
		return -1;
	}
	if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode)) {
		ht_error("'%s' is not a directory", p);
		free(p);
		return -1;
	}
	free(p);
	return 0;
}

char *ht_path_join(const char *a, const char *b)
{
	size_t la = strlen(a);

	if (!la)
		return ht_xstrdup(b);
	if (*b == '/')
		b++;
	return ht_xasprintf("%s%s%s", a, a[la - 1] == '/' ? "" : "/", b);
}

char *ht_path_resolve(const char *base, const char *path)
{
	return path[0] == '/' ? ht_xstrdup(path) : ht_path_join(base, path);
}

char *ht_self_dir(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return NULL;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	return ht_xstrdup(*self ? self : "/");
}

/*
 * Creates a new, empty "PATH.tmp.XXXXXX" (six random letters or digits) for
 * writing, with mode less the umask as the kernel applies it: nothing here
 * reads or changes the umask, which belongs to the whole process (another
 * thread may be creating a file). Returns the descriptor, the name in
 * *tmp (new), or -1 with errno set.
 */
static int create_tmp(const char *path, mode_t mode, char **tmp)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	int tries;

	for (tries = 0; tries < 100; tries++) {
		unsigned char rnd[6];
		char sfx[7];
		int i, fd;

		if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
			errno = EIO;
			return -1;
		}
		for (i = 0; i < 6; i++)
			sfx[i] = chars[rnd[i] % (sizeof(chars) - 1)];
		sfx[6] = '\0';
		*tmp = ht_xasprintf("%s.tmp.%s", path, sfx);
		fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return -1;
		free(*tmp);
		*tmp = NULL;
	}
	errno = EEXIST;
	return -1;
}

int ht_atomic_open(struct ht_atomic_file *af, const char *path, mode_t mode)
{
	int fd;

	struct stat st;
	char *real = NULL;

	/* A link to a regular file: replace the file, keep the link
	 * (/dev/stdout redirected to a file names that file this way). */
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && stat(path, &st) == 0 && S_ISREG(st.st_mode))
		real = realpath(path, NULL);
	af->path = real ? real : ht_xstrdup(path);
	af->tmp = NULL;
	af->fp = NULL;
	af->no_sync = 0;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		/* A device or a FIFO: write to it; there is nothing to replace. */
		fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0 || !(af->fp = fdopen(fd, "w"))) {
			ht_error("cannot open '%s': %s", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			goto fail;
		}
		return 0;
	}
	fd = create_tmp(af->path, mode, &af->tmp);
	if (fd < 0) {
		ht_error("cannot create '%s': %s", af->tmp ? af->tmp : af->path, strerror(errno));
		goto fail;
	}
	af->fp = fdopen(fd, "w");
	if (!af->fp) {
		ht_error("cannot open '%s': %s", af->tmp, strerror(errno));
		close(fd);
		unlink(af->tmp);
		goto fail;
	}
	return 0;
fail:
	free(af->path);
	free(af->tmp);
	af->path = af->tmp = NULL;
	return -1;
}

void ht_atomic_abort(struct ht_atomic_file *af)
{
	if (af->fp)
		fclose(af->fp);
	if (af->tmp)
		unlink(af->tmp);
	free(af->path);
	free(af->tmp);
	af->path = af->tmp = NULL;
	af->fp = NULL;
}

int ht_atomic_commit(struct ht_atomic_file *af)
{
	FILE *fp = af->fp;
	int err = 0;

	if (fflush(fp) != 0 || ferror(fp))
		err = errno ? errno : EIO;
	else if (!af->no_sync && fsync(fileno(fp)) < 0 && errno != EINVAL)
		err = errno;
	af->fp = NULL;
	if (fclose(fp) != 0 && !err)
		err = errno;
	if (!err && af->tmp && rename(af->tmp, af->path) < 0)
		err = errno;
	if (err) {
		ht_error("cannot write '%s': %s", af->path, strerror(err));
		if (af->tmp)
			unlink(af->tmp);
	}
	free(af->path);
	free(af->tmp);
	af->path = af->tmp = NULL;
	return err ? -1 : 0;
}

int ht_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	struct ht_atomic_file af;

	if (ht_atomic_open(&af, path, mode) < 0)
		return -1;
	if (len && fwrite(data, 1, len, af.fp) != len) {
		ht_error("cannot write '%s': %s", af.tmp, strerror(errno));
		ht_atomic_abort(&af);
		return -1;
	}
	return ht_atomic_commit(&af);
}

int ht_read_file(const char *path, size_t max, char **out, size_t *len)
{
	struct ht_buf b;
	char tmp[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*out = NULL;
	if (fd < 0)
		return -1;
	ht_buf_init(&b, max);
	while ((n = read(fd, tmp, sizeof(tmp))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (ht_buf_add(&b, tmp, (size_t)n) < 0)
			goto fail;
	}
	close(fd);
	if (len)
		*len = b.len;
	*out = ht_buf_detach(&b);
	return 0;
fail:
	{
		int e = errno;

		close(fd);
		ht_buf_release(&b);
		errno = e;
	}
	return -1;
}

int ht_remove_at(int at, const char *name)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int fd, ret = 0;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(at, name, 0) < 0 && errno != ENOENT ? -1 : 0;
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* A directory without write permission (an unpacked image has some)
	 * is made writable first, or its entries could not go. */
	if ((st.st_mode & S_IRWXU) != S_IRWXU)
		(void)fchmod(fd, (st.st_mode & 07777) | S_IRWXU);
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (ht_remove_at(dirfd(d), de->d_name) < 0)
			ret = -1;
	}
	closedir(d);
	if (unlinkat(at, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		ret = -1;
	return ret;
}

char *ht_which(const char *prog)
{
	return ht_which_in(getenv("PATH"), prog);
}

char *ht_which_in(const char *path, const char *prog)
{
	char *copy, *dir, *save = NULL, *found = NULL;

	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0 ? ht_xstrdup(prog) : NULL;
	if (!path || !*path)
		return NULL;
	copy = ht_xstrdup(path);
	for (dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
		char *f = ht_path_join(*dir ? dir : ".", prog);
		struct stat st;

		if (stat(f, &st) == 0 && S_ISREG(st.st_mode) && access(f, X_OK) == 0)
			found = f;
		else
			free(f);
	}
	free(copy);
	return found;
}

int ht_remove_tree(const char *path)
{
	if (!*path || !strcmp(path, "/"))
		return ht_error("refusing to remove '%s'", path);
	if (ht_remove_at(AT_FDCWD, path) < 0)
		return ht_error("cannot remove '%s': %s", path, strerror(errno));
	return 0;
}

/* --- time ------------------------------------------------------------------ */

int64_t ht_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ht_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ht_format_time(int64_t wall_ms, char out[32])
{
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100,
		 tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100, (int)(wall_ms % 1000));
}

void ht_sleep_ms(int64_t ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		continue;
}

/* --- UTF-8 ----------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
size_t ht_utf8_seq(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

char *ht_utf8_clean(char *s, size_t len, int oneline)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		size_t k = ht_utf8_seq((const unsigned char *)s + i, len - i);

		if (!k) {
			s[i++] = '?';
			continue;
		}
		if (k == 1 && (c == 0 || (oneline && (c < 0x20 || c == 0x7f))))
			s[i] = c == 0 ? '?' : ' ';
		i += k;
	}
	return s;
}

char *ht_base64_encode(const void *p, size_t n)
{
	char *out;

	if (n > INT_MAX / 4 * 3 - 3)
		oom(n); /* EVP_EncodeBlock counts in int */
	out = ht_xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)p, (int)n);
	return out;
}

char *ht_base64_decode_text(const char *s)
{
	size_t len;
	char *out = ht_base64_decode(s, &len);

	if (out && memchr(out, '\0', len)) {
		OPENSSL_cleanse(out, len);
		free(out);
		return NULL;
	}
	return out;
}

char *ht_base64_decode(const char *s, size_t *len)
{
	size_t n = strlen(s), pad = 0;
	unsigned char *out;
	int got;

	if (n == 0 || n % 4)
		return NULL;
	out = ht_xmalloc(n / 4 * 3 + 1);
	got = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
	if (got < 0) {
		free(out);
		return NULL;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	if (s[n - 1] == '=')
		pad++;
	if (s[n - 2] == '=')
		pad++;
	got -= (int)pad;
	out[got] = '\0';
	if (len)
		*len = (size_t)got;
	return (char *)out;
}

/* --- strings --------------------------------------------------------------- */

int ht_starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int ht_ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

int ht_parse_size(const char *s, int64_t *out)
{
	char *end;
	long long v;
	int shift = 0;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || v < 0)
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (shift && *end == 'i')
		end++;
	if (*end == 'B')
		end++;
	if (*end || v > (1LL << (62 - shift)))
		return -1;
	*out = (int64_t)v << shift;
	return 0;
}

int ht_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}
