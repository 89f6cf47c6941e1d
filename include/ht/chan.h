/*
 * chan.h: typed messages on a socket pair (SOCK_SEQPACKET: each send is
 * one message, kept whole and in order, and the peer's end is seen).
 *
 * A message is a type byte, an id, a line of metadata and a body:
 *
 *   T ID '\n' META '\n' BODY
 *
 * ID and META hold no newline; BODY is bytes. A message is at most
 * HT_CHAN_MAX bytes: what is larger goes another way (the caller's).
 */
#ifndef HT_CHAN_H
#define HT_CHAN_H

#include <stddef.h>
#include <sys/types.h>

#define HT_CHAN_MAX (128 * 1024)
/* An id and a line of metadata are shorter than these (with their NUL). */
#define HT_CHAN_ID_MAX 80
#define HT_CHAN_META_MAX 64

struct ht_chan_msg {
	char type;
	char id[HT_CHAN_ID_MAX];
	char meta[HT_CHAN_META_MAX];
	const char *body; /* into the buffer given to ht_chan_recv */
	size_t len;
};

/* 1 when a message of id, meta and len bytes of body fits. */
int ht_chan_fits(const char *id, const char *meta, size_t len);
/*
 * Sends one message (flags for sendmsg, with MSG_NOSIGNAL added). Returns
 * 0, or -1 with errno: EMSGSIZE when it does not fit, EAGAIN with
 * MSG_DONTWAIT on a full socket, EPIPE or ECONNRESET (it left messages
 * unread) when the peer is gone.
 */
int ht_chan_send(int fd, char type, const char *id, const char *meta, const void *body, size_t len, int flags);
/*
 * Receives one message into buf (cap bytes, HT_CHAN_MAX for any) and
 * parses it into m. Returns 1, 0 when the peer closed its end, or -1
 * with errno (EAGAIN, EINTR, EBADMSG for a message cut or not of this
 * shape).
 */
int ht_chan_recv(int fd, char *buf, size_t cap, struct ht_chan_msg *m, int flags);

#endif
