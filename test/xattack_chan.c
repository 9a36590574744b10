// SPDX-License-Identifier: GPL-2.0
/*
 * xattack victim: a hostile peer on the control channel (chan.c;
 * docs/protocol.md, "Control channel").  The attacker asks for a channel
 * as a connector would (type 512, one page per direction), the module
 * accepts it, and then the attacker writes into it what no module would:
 * a request naming a grant it never made, records of the wrong size or
 * with a lying header, requests whose answers it never reads, and an
 * event storm.  A bad request is answered over the channel; anything
 * else closes the channel, with a log line, and nothing else changes.
 */
#include "xattack.h"
#include "xattack_victim.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHAN_TYPE	512
#define CHAN_SPORT	0
#define CHAN_CPORT	4294967295u
#define CHAN_CONNECT	1
#define CHAN_ANSWER	2
#define CHAN_PATH	"/proc/net/af_xen_chan"

/* The records, as docs/protocol.md lays them out. */
struct chan_connect {
	uint32_t op, sport, cport, type, gref, evtchn, order, pad;
	uint64_t nonce;
};

struct chan_answer {
	uint32_t op, err, sport, cport;
	uint64_t nonce;
};

/* Is a channel from the attacker up in this module? */
static int chan_in_up(void)
{
	char line[128], want[48];
	FILE *f = fopen(CHAN_PATH, "r");
	int up = 0;

	if (!f)
		return 0;
	snprintf(want, sizeof(want), "peer %u in up ", g_opt->peer);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, want, strlen(want)))
			up = 1;
	fclose(f);
	return up;
}

/* The attacker asks for a channel; 0 once it is up here. */
static int chan_open(const char **why)
{
	static char text[300];
	long e;

	e = answer_errno(ask("CONN %u %u 0 ok %u", CHAN_SPORT, CHAN_CPORT,
			     CHAN_TYPE), text, sizeof(text));
	*why = text;
	if (e)
		return -1;
	msleep(50);
	if (!chan_in_up()) {
		*why = "answered 0, but no channel is up";
		return -1;
	}
	return 0;
}

/* Wait up to 2 s for the module to close the attacker's channel. */
static int chan_closed(void)
{
	int i;

	for (i = 0; i < 20 && chan_in_up(); i++)
		msleep(100);
	return !chan_in_up();
}

static const char *wrec(unsigned int count, const void *rec, size_t len)
{
	char hex[XA_LINE];

	hex_encode(hex, rec, len);
	return ask_timeout(60000, "WREC %u %s", count, hex);
}

/* A request for a grant the attacker never made: answered, nothing more. */
static void case_bad_grant(unsigned int lport, int lfd)
{
	struct chan_connect c = {
		.op = CHAN_CONNECT, .sport = lport, .cport = 32000,
		.type = 1, .gref = 0x7ffffff0, .evtchn = 1, .nonce = rnd64(),
	};
	struct chan_answer a = { 0 };
	char raw[64];
	const char *why, *r;
	struct logmark m;
	ssize_t n = -1;
	int fd, i;

	log_mark(&m);
	if (chan_open(&why)) {
		tapf(0, "attack: control channel accepted", "%s", why);
		return;
	}
	tapf(1, "attack: control channel accepted", "");
	wrec(1, &c, sizeof(c));
	for (i = 0; i < 30 && n <= 0; i++) {
		msleep(100);
		r = ask("RREC");
		n = strcmp(r, "REC -") ? hex_decode(raw, sizeof(raw), r + 4) : 0;
	}
	if (n == sizeof(a))
		memcpy(&a, raw, sizeof(a));
	fd = accept(lfd, NULL, NULL);
	if (fd >= 0)
		close(fd);
	log_check(&m, "control channel request naming a bad grant");
	tapf(n == sizeof(a) && a.op == CHAN_ANSWER && a.err &&
	     a.nonce == c.nonce && a.sport == lport && a.cport == 32000 &&
	     fd < 0 && chan_in_up(),
	     "attack: control channel request naming a bad grant: answered with an error over the channel, nothing accepted, the channel stays up",
	     "answer of %zd bytes, op %u err %u; %s; channel %s", n, a.op,
	     a.err, fd >= 0 ? "a socket was accepted" : "nothing accepted",
	     chan_in_up() ? "up" : "closed");
}

/* @cmd (or the record @rec) breaks the channel: closed, with a log line. */
static void chan_breaks(const char *name, const char *cmd, const void *rec,
			size_t len, unsigned int count)
{
	const char *why, *r = "";
	struct logmark m;

	log_mark(&m);
	if (chan_open(&why)) {
		tapf(0, "attack: control channel: %s", "not set up: %s", name,
		     why);
		ask("DROP");
		return;
	}
	if (cmd)
		r = ask_timeout(30000, "%s", cmd);
	else
		r = wrec(count, rec, len);
	note("control channel, %s: attacker: %s", name, r);
	log_check(&m, name);
	tapf(chan_closed(), "attack: control channel: %s: closed", "still up",
	     name);
	ask("DROP");
}

int victim_chan_cases(unsigned int lport, int lfd)
{
	struct chan_connect c = {
		.op = CHAN_CONNECT, .sport = lport + 57, .cport = 32001,
		.type = 1, .gref = 8, .evtchn = 1,
	};
	static const uint8_t small[8];

	case_bad_grant(lport, lfd);
	ask("DROP");
	chan_breaks("record of the wrong size", NULL, small, sizeof(small), 1);
	chan_breaks("record header past the fill level", "WRITE 64", NULL, 0,
		    0);
	c.op = 3;
	chan_breaks("record of an unknown kind", NULL, &c, sizeof(c), 1);
	c.op = CHAN_CONNECT;
	/* Each refused (no listener), the answers pile up unread. */
	chan_breaks("requests whose answers are never read", NULL, &c,
		    sizeof(c), 400);
	chan_breaks("event storm", "STORM 500 2000", NULL, 0, 0);
	return 0;
}
