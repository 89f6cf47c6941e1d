/*
 * test-chan.c: typed messages on a socket pair (lib/chan.c): a message
 * comes back whole with its type, id, metadata and body, empty or of the
 * largest size; one that does not fit, or an id with a newline, is
 * refused before anything is sent; a message not of the shape, or cut, is
 * EBADMSG; a full socket is EAGAIN with MSG_DONTWAIT; the peer's close is
 * 0, and a send to a closed peer EPIPE or ECONNRESET (no SIGPIPE).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ht/chan.h"
#include "tap.h"

int main(void)
{
	static char buf[HT_CHAN_MAX];
	struct ht_chan_msg m;
	int sv[2], size = 4 * HT_CHAN_MAX, n;
	size_t big;
	char *body;

	signal(SIGPIPE, SIG_DFL); /* a SIGPIPE would end the test */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0) {
		ok(0, "socketpair");
		return tap_done();
	}
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));

	ok(ht_chan_send(sv[0], 'E', "req-1", "1796188367365", "{\"a\":1}", 7, 0) == 0, "a message is sent");
	ok(ht_chan_recv(sv[1], buf, sizeof(buf), &m, 0) == 1, "and received");
	ok(m.type == 'E', "its type");
	is_str(m.id, "req-1", "its id");
	is_str(m.meta, "1796188367365", "its metadata");
	ok(m.len == 7 && !memcmp(m.body, "{\"a\":1}", 7), "its body");

	ok(ht_chan_send(sv[0], 'N', "", "", NULL, 0, 0) == 0, "an empty message");
	ok(ht_chan_recv(sv[1], buf, sizeof(buf), &m, 0) == 1 && m.type == 'N' && !m.id[0] && !m.meta[0] && m.len == 0,
	   "comes back empty");

	/* The largest that fits, and one byte more. */
	big = HT_CHAN_MAX - (3 + strlen("req-2") + strlen("x"));
	body = malloc(big + 1);
	memset(body, 'b', big + 1);
	ok(ht_chan_fits("req-2", "x", big) && !ht_chan_fits("req-2", "x", big + 1), "what fits: HT_CHAN_MAX in all");
	n = ht_chan_send(sv[0], 'R', "req-2", "x", body, big, 0);
	if (n < 0 && errno == EMSGSIZE) {
		/* The system gave a smaller buffer than asked: nothing to see. */
		ok(1, "# SKIP the socket's buffer is under HT_CHAN_MAX here");
		ok(1, "# SKIP");
	} else {
		ok(n == 0, "the largest message is sent");
		ok(ht_chan_recv(sv[1], buf, sizeof(buf), &m, 0) == 1 && m.len == big && m.body[big - 1] == 'b',
		   "and received whole");
	}
	errno = 0;
	ok(ht_chan_send(sv[0], 'R', "req-2", "x", body, big + 1, 0) < 0 && errno == EMSGSIZE,
	   "one byte more: EMSGSIZE, before sending");
	errno = 0;
	ok(ht_chan_send(sv[0], 'R', "req\n3", "", "x", 1, 0) < 0 && errno == EMSGSIZE, "an id with a newline: refused");
	errno = 0;
	ok(ht_chan_send(sv[0], 'E', "a-very-long-id-a-very-long-id-a-very-long-id-a-very-long-id-a-very-long-id-and-more",
			"", "x", 1, 0) < 0 && errno == EMSGSIZE, "an id of 80 bytes or more: refused");
	errno = 0;
	ok(ht_chan_recv(sv[1], buf, sizeof(buf), &m, MSG_DONTWAIT) < 0 && errno == EAGAIN,
	   "nothing was sent of them");

	/* Not of the shape: no newline after the id; cut: longer than cap. */
	ok(send(sv[0], "Sabc", 4, 0) == 4, "a message without its lines");
	errno = 0;
	ok(ht_chan_recv(sv[1], buf, sizeof(buf), &m, 0) < 0 && errno == EBADMSG, "is EBADMSG");
	ok(ht_chan_send(sv[0], 'R', "req-4", "", body, 1000, 0) == 0, "a message");
	errno = 0;
	ok(ht_chan_recv(sv[1], buf, 100, &m, 0) < 0 && errno == EBADMSG, "into a buffer too small: EBADMSG");
	ok(ht_chan_send(sv[0], 'S', "req-5", "", NULL, 0, 0) == 0 && ht_chan_recv(sv[1], buf, sizeof(buf), &m, 0) == 1 &&
		   m.type == 'S' && !strcmp(m.id, "req-5"),
	   "and the next comes whole after it");

	/* A full socket, without waiting. */
	for (n = 0; n < 100000; n++)
		if (ht_chan_send(sv[0], 'S', "req-6", "", body, 4096, MSG_DONTWAIT) < 0)
			break;
	ok(n < 100000 && errno == EAGAIN, "a full socket: EAGAIN with MSG_DONTWAIT");

	close(sv[1]);
	errno = 0;
	n = ht_chan_send(sv[0], 'N', "", "", NULL, 0, 0);
	/* ECONNRESET when it left messages unread. */
	ok(n < 0 && (errno == EPIPE || errno == ECONNRESET), "the peer gone: EPIPE or ECONNRESET, no SIGPIPE");
	if (n >= 0 || (errno != EPIPE && errno != ECONNRESET))
		printf("# got %d, errno %d (%s)\n", n, errno, strerror(errno));
	close(sv[0]);

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0) {
		close(sv[0]);
		ok(ht_chan_recv(sv[1], buf, sizeof(buf), &m, 0) == 0, "the peer's close: 0");
		close(sv[1]);
	}
	free(body);
	return tap_done();
}
