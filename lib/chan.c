/*
 * chan.c: typed messages on a SOCK_SEQPACKET socket (include/ht/chan.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "ht/chan.h"

int ht_chan_fits(const char *id, const char *meta, size_t len)
{
	size_t il = strlen(id), ml = strlen(meta ? meta : "");

	return il < HT_CHAN_ID_MAX && ml < HT_CHAN_META_MAX &&
	       len <= HT_CHAN_MAX - (3 + il + ml);
}

int ht_chan_send(int fd, char type, const char *id, const char *meta, const void *body, size_t len, int flags)
{
	char head[1 + HT_CHAN_ID_MAX + HT_CHAN_META_MAX + 2];
	size_t il = strlen(id), ml = strlen(meta ? meta : "");
	struct iovec iov[2];
	struct msghdr mh;
	ssize_t n;

	if (!ht_chan_fits(id, meta, len) || memchr(id, '\n', il) || (ml && memchr(meta, '\n', ml))) {
		errno = EMSGSIZE;
		return -1;
	}
	head[0] = type;
	memcpy(head + 1, id, il);
	head[1 + il] = '\n';
	if (ml)
		memcpy(head + 2 + il, meta, ml);
	head[2 + il + ml] = '\n';
	iov[0].iov_base = head;
	iov[0].iov_len = 3 + il + ml;
	iov[1].iov_base = (void *)body;
	iov[1].iov_len = body ? len : 0;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	do
		n = sendmsg(fd, &mh, flags | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR && !(flags & MSG_DONTWAIT));
	if (n < 0)
		return -1;
	if ((size_t)n != iov[0].iov_len + iov[1].iov_len) {
		errno = EMSGSIZE; /* a message is sent whole or not at all */
		return -1;
	}
	return 0;
}

/* Copies the line at *p (up to end) into out (n bytes); moves *p past it. */
static int take_line(const char **p, const char *end, char *out, size_t n)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));

	if (!nl || (size_t)(nl - *p) >= n)
		return -1;
	memcpy(out, *p, (size_t)(nl - *p));
	out[nl - *p] = 0;
	*p = nl + 1;
	return 0;
}

int ht_chan_recv(int fd, char *buf, size_t cap, struct ht_chan_msg *m, int flags)
{
	ssize_t n = recv(fd, buf, cap, flags | MSG_TRUNC);
	const char *p, *end;

	if (n < 0)
		return -1;
	if (n == 0)
		return 0;
	if ((size_t)n > cap) {
		errno = EBADMSG; /* cut: larger than any message */
		return -1;
	}
	memset(m, 0, sizeof(*m));
	p = buf + 1;
	end = buf + n;
	m->type = buf[0];
	if (take_line(&p, end, m->id, sizeof(m->id)) < 0 || take_line(&p, end, m->meta, sizeof(m->meta)) < 0) {
		errno = EBADMSG;
		return -1;
	}
	m->body = p;
	m->len = (size_t)(end - p);
	return 1;
}
