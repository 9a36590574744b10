/* SPDX-License-Identifier: GPL-2.0 */
/*
 * af_xen byte-stream ring over a shared area.
 *
 * This file and ring.c know nothing of Xen or sockets: the same code is
 * built into the module and, with test/ring_user.h, into userspace unit
 * tests, a threaded stress test and a fuzzer that plays a hostile peer.
 *
 * One ring carries one direction.  Its indices live in shared memory that
 * the peer can overwrite at any time, so each side keeps the index it owns
 * in private memory and only ever *reads* the peer's index, once per
 * refresh, and validates it before use.
 */
#ifndef AFX_RING_H
#define AFX_RING_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/atomic.h>
#include <asm/barrier.h>
#else
#include "ring_user.h"
#endif

/* Producer state bits (afx_ring_shared.pstate). */
#define AFX_RING_EOF		0x1	/* producer will write no more */
/* Consumer state bits (afx_ring_shared.cstate). */
#define AFX_RING_CLOSED		0x2	/* consumer will read no more */
/* Either side: connection aborted. */
#define AFX_RING_RESET		0x4

#define AFX_RING_PSTATE_MASK	(AFX_RING_EOF | AFX_RING_RESET)
#define AFX_RING_CSTATE_MASK	(AFX_RING_CLOSED | AFX_RING_RESET)

/*
 * Shared indices of one direction: two cache lines, one written by each
 * side, so that the producer and the consumer do not bounce one line.
 * The want_* words are set by the side that is about to sleep and cleared
 * with an atomic exchange by the side that then sends the event.
 */
struct afx_ring_shared {
	__u32 prod;		/* producer: bytes ever written (free-running) */
	__u32 pstate;		/* producer: AFX_RING_EOF, AFX_RING_RESET */
	__u32 want_space;	/* producer sets, consumer clears */
	__u8 pad0[52];
	__u32 cons;		/* consumer: bytes ever read (free-running) */
	__u32 cstate;		/* consumer: AFX_RING_CLOSED, AFX_RING_RESET */
	__u32 want_data;	/* consumer sets, producer clears */
	__u8 pad1[52];
};

/*
 * Copy callback: moves len bytes between the caller's buffer (ctx) and
 * ring memory at ring_ptr, in the direction the operation implies.
 * Returns the number of bytes moved; fewer than len means a fault.
 */
typedef size_t (*afx_ring_copy_t)(void *ctx, void *ring_ptr, size_t len);

/* Private view of one ring; owned by one side, never shared. */
struct afx_ring {
	struct afx_ring_shared *sh;
	__u8 *data;
	__u32 size;		/* power of two, trusted (local) */
	__u32 idx;		/* our own index: prod or cons */
	__u32 peer_idx;		/* last validated peer index */
	__u32 eof_prod;		/* consumer: prod when EOF was seen */
	__u32 state;		/* our own published state bits */
	__u32 peer_state;	/* last validated peer state bits */
	__u32 wake_space;	/* consumer: wake a writer at this free space */
	__u32 rec_valid;	/* consumer: record flags the peer may set */
	__u32 rec_flags;	/* consumer: flags of the last record seen */
};

void afx_ring_init(struct afx_ring *r, struct afx_ring_shared *sh,
		   void *data, __u32 size);

int afx_ring_rx_avail(struct afx_ring *r);
int afx_ring_tx_space(struct afx_ring *r);

long afx_ring_write(struct afx_ring *r, afx_ring_copy_t copy, void *ctx,
		    size_t len);
long afx_ring_read(struct afx_ring *r, afx_ring_copy_t copy, void *ctx,
		   size_t len, bool peek);

bool afx_ring_tx_kick(struct afx_ring *r);
bool afx_ring_rx_kick(struct afx_ring *r);
int afx_ring_rx_prepare_wait(struct afx_ring *r);
int afx_ring_tx_prepare_wait(struct afx_ring *r);

/*
 * Records: a 4-byte header (native byte order: both ends run on one
 * host) holding the length and flags, and the payload, back to back,
 * with no padding; prod only ever covers whole records.  Which flags a
 * peer may set is the reader's business (rec_valid; none by default):
 * any other bit in a header is a lie.
 */
#define AFX_REC_HDR	4
#define AFX_REC_EOR	0x80000000u	/* vsock: the sender's MSG_EOR */
#define AFX_REC_FLAGS	AFX_REC_EOR

static inline __u32 afx_ring_rec_max(const struct afx_ring *r)
{
	return r->size - AFX_REC_HDR;
}

long afx_ring_write_rec(struct afx_ring *r, afx_ring_copy_t copy, void *ctx,
			size_t len, __u32 flags);
int afx_ring_rec_avail(struct afx_ring *r, __u32 *len);
long afx_ring_rec_bytes(struct afx_ring *r);
long afx_ring_read_rec(struct afx_ring *r, afx_ring_copy_t copy, void *ctx,
		       size_t buflen, bool peek, __u32 *reclen);

long afx_ring_fill(struct afx_ring *r, afx_ring_copy_t copy, void *ctx,
		   size_t len);
long afx_ring_fill_rec(struct afx_ring *r, afx_ring_copy_t copy, void *ctx,
		       size_t len, __u32 flags);
void afx_ring_publish(struct afx_ring *r, __u32 idx);

void afx_ring_tx_set_state(struct afx_ring *r, __u32 bits);
void afx_ring_rx_set_state(struct afx_ring *r, __u32 bits);

/* Peer's state bits as last validated by rx_avail/tx_space. */
static inline bool afx_ring_peer_eof(const struct afx_ring *r)
{
	return r->peer_state & AFX_RING_EOF;
}

static inline bool afx_ring_peer_closed(const struct afx_ring *r)
{
	return r->peer_state & AFX_RING_CLOSED;
}

static inline bool afx_ring_peer_reset(const struct afx_ring *r)
{
	return r->peer_state & AFX_RING_RESET;
}

#endif /* AFX_RING_H */
