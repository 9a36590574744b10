// SPDX-License-Identifier: GPL-2.0
/*
 * af_xen byte-stream ring: free-running u32 indices over a power-of-two
 * area, copies in at most two pieces, and the "notify only a sleeper"
 * protocol of libxenvchan.
 *
 * No locking here: each struct afx_ring has one producer or one consumer
 * on this side, serialised by the caller (the socket lock in af_xen.c).
 * The peer is another domain and may write anything into the shared
 * indices at any moment; every value it writes is read once with
 * READ_ONCE, checked, and only then used.
 *
 * Barriers follow Linux's pvcalls and 9pfs Xen transports: the producer
 * reads cons, full barrier, copies, write barrier, publishes prod; the
 * consumer reads prod, read barrier, copies, full barrier, publishes cons.
 */
#include "ring.h"

#ifdef __KERNEL__
#include <linux/string.h>	/* memcpy of record headers */
#endif

void afx_ring_init(struct afx_ring *r, struct afx_ring_shared *sh,
		   void *data, __u32 size)
{
	r->sh = sh;
	r->data = data;
	r->size = size;
	r->idx = 0;
	r->peer_idx = 0;
	r->eof_prod = 0;
	r->state = 0;
	r->peer_state = 0;
	r->wake_space = size / 2;
	r->rec_valid = 0;
	r->rec_flags = 0;
}

/* Peer state bits only accumulate; an unknown or vanished bit is a lie. */
static bool afx_ring_state_ok(const struct afx_ring *r, __u32 state,
			      __u32 valid)
{
	return !(state & ~valid) && !(r->peer_state & ~state);
}

/*
 * Consumer: bytes that may be read now, or -EPROTO if the peer broke the
 * protocol.  The producer publishes EOF only after its final prod, so
 * reading pstate before prod means a prod read after an EOF is final.
 */
int afx_ring_rx_avail(struct afx_ring *r)
{
	__u32 state, prod;

	state = READ_ONCE(r->sh->pstate);
	virt_rmb();	/* pstate before prod: see above */
	prod = READ_ONCE(r->sh->prod);

	if (!afx_ring_state_ok(r, state, AFX_RING_PSTATE_MASK))
		return -EPROTO;
	/* More than a ring's worth unread, or prod behind our cons. */
	if (prod - r->idx > r->size)
		return -EPROTO;
	/* prod moved backwards (still ahead of cons, but retracting data). */
	if (prod - r->peer_idx > r->size)
		return -EPROTO;
	if (r->peer_state & AFX_RING_EOF) {
		if (prod != r->eof_prod)
			return -EPROTO;	/* wrote after it said EOF */
	} else if (state & AFX_RING_EOF) {
		r->eof_prod = prod;
	}
	r->peer_state = state;
	r->peer_idx = prod;
	/* Data reads must not be hoisted above the read of prod. */
	virt_rmb();
	return prod - r->idx;
}

/* Producer: free bytes in the ring now, or -EPROTO. */
int afx_ring_tx_space(struct afx_ring *r)
{
	__u32 state, cons;

	state = READ_ONCE(r->sh->cstate);
	cons = READ_ONCE(r->sh->cons);

	if (!afx_ring_state_ok(r, state, AFX_RING_CSTATE_MASK))
		return -EPROTO;
	/* cons ahead of what we produced, or more than a ring behind. */
	if (r->idx - cons > r->size)
		return -EPROTO;
	/* cons moved backwards: the peer would make us overwrite unread data. */
	if (cons - r->peer_idx > r->size)
		return -EPROTO;
	r->peer_state = state;
	r->peer_idx = cons;
	/* The consumer must be done reading before we overwrite the space. */
	virt_mb();
	return r->size - (r->idx - cons);
}

/* Copy n bytes starting at ring offset idx, in at most two pieces. */
static size_t afx_ring_copy(struct afx_ring *r, afx_ring_copy_t copy,
			    void *ctx, __u32 idx, size_t n)
{
	__u32 off = idx & (r->size - 1);
	size_t first = r->size - off;
	size_t done;

	if (first > n)
		first = n;
	done = copy(ctx, r->data + off, first);
	if (done == first && n > first)
		done += copy(ctx, r->data, n - first);
	return done;
}

/*
 * Write up to len bytes.  Returns bytes written (0 if the ring is full),
 * -EFAULT if nothing could be copied, -EPROTO on a peer violation.  Only
 * bytes that were really copied are published.
 */
long afx_ring_write(struct afx_ring *r, afx_ring_copy_t copy, void *ctx,
		    size_t len)
{
	int space = afx_ring_tx_space(r);
	size_t n, done;

	if (space < 0)
		return space;
	n = len < (size_t)space ? len : (size_t)space;
	if (!n)
		return 0;
	done = afx_ring_copy(r, copy, ctx, r->idx, n);
	if (!done)
		return -EFAULT;
	virt_wmb();	/* data before the prod that covers it */
	r->idx += done;
	WRITE_ONCE(r->sh->prod, r->idx);
	return done;
}

/*
 * Read up to len bytes (or look at them with peek).  Returns bytes read,
 * 0 if the ring is empty, -EFAULT, or -EPROTO.
 */
long afx_ring_read(struct afx_ring *r, afx_ring_copy_t copy, void *ctx,
		   size_t len, bool peek)
{
	int avail = afx_ring_rx_avail(r);
	size_t n, done;

	if (avail < 0)
		return avail;
	n = len < (size_t)avail ? len : (size_t)avail;
	if (!n)
		return 0;
	done = afx_ring_copy(r, copy, ctx, r->idx, n);
	if (!done)
		return -EFAULT;
	if (!peek) {
		virt_mb();	/* done reading before the space is freed */
		r->idx += done;
		WRITE_ONCE(r->sh->cons, r->idx);
	}
	return done;
}

/*
 * Producer, after publishing prod: does a sleeping consumer need an event?
 * The exchange makes sure that only one of several kicks sends it.
 */
bool afx_ring_tx_kick(struct afx_ring *r)
{
	virt_mb();	/* prod published before want_data is read */
	if (!READ_ONCE(r->sh->want_data))
		return false;
	return xchg(&r->sh->want_data, 0) != 0;
}

/*
 * Consumer, after publishing cons: wake a sleeping producer, but only once
 * a useful amount of space is free, so that a fast reader does not send
 * an event for every few bytes it takes.
 */
bool afx_ring_rx_kick(struct afx_ring *r)
{
	virt_mb();	/* cons published before want_space is read */
	if (!READ_ONCE(r->sh->want_space))
		return false;
	if (r->size - (r->peer_idx - r->idx) < r->wake_space)
		return false;
	return xchg(&r->sh->want_space, 0) != 0;
}

/*
 * About to sleep for data: ask for an event, then look again, so that
 * data published between the last look and the request is not missed.
 * Returns what afx_ring_rx_avail() returns; sleep only on 0.
 */
int afx_ring_rx_prepare_wait(struct afx_ring *r)
{
	WRITE_ONCE(r->sh->want_data, 1);
	virt_mb();	/* flag visible before prod is read again */
	return afx_ring_rx_avail(r);
}

/* About to sleep for space: the mirror image of the above. */
int afx_ring_tx_prepare_wait(struct afx_ring *r)
{
	WRITE_ONCE(r->sh->want_space, 1);
	virt_mb();	/* flag visible before cons is read again */
	return afx_ring_tx_space(r);
}

/*
 * Publish our producer state (EOF, RESET).  Everything written before is
 * visible first, so a consumer that sees EOF also sees the final prod.
 * The caller sends an event afterwards: the peer may sleep for any reason.
 */
void afx_ring_tx_set_state(struct afx_ring *r, __u32 bits)
{
	r->state |= bits & AFX_RING_PSTATE_MASK;
	virt_wmb();	/* final prod before EOF */
	WRITE_ONCE(r->sh->pstate, r->state);
}

/* Publish our consumer state (CLOSED, RESET). */
void afx_ring_rx_set_state(struct afx_ring *r, __u32 bits)
{
	r->state |= bits & AFX_RING_CSTATE_MASK;
	virt_wmb();	/* final cons before CLOSED */
	WRITE_ONCE(r->sh->cstate, r->state);
}

/* ----- Records (SOCK_SEQPACKET framing inside the same ring) ----- */

/*
 * Header copies go to and from a local word, never trusted in place; the
 * header may be split at the end of the ring, so the cursor moves on.
 */
static size_t afx_ring_hdr_copy(void *ctx, void *ring, size_t len)
{
	__u8 **p = ctx;

	memcpy(*p, ring, len);
	*p += len;
	return len;
}

static size_t afx_ring_hdr_put(void *ctx, void *ring, size_t len)
{
	__u8 **p = ctx;

	memcpy(ring, *p, len);
	*p += len;
	return len;
}

/*
 * Write one record: the payload, then its header, then one prod covering
 * both, so that the peer never sees part of a record.  -EMSGSIZE if it
 * can never fit, -EAGAIN if it does not fit now, -EFAULT (nothing
 * published) if the payload could not be copied in full.
 */
long afx_ring_write_rec(struct afx_ring *r, afx_ring_copy_t copy, void *ctx,
			size_t len, __u32 flags)
{
	int space = afx_ring_tx_space(r);
	__u32 hdr = len | (flags & AFX_REC_FLAGS);
	__u8 *h = (__u8 *)&hdr;

	if (space < 0)
		return space;
	if (len > afx_ring_rec_max(r))
		return -EMSGSIZE;
	if ((size_t)space < AFX_REC_HDR + len)
		return -EAGAIN;
	if (afx_ring_copy(r, copy, ctx, r->idx + AFX_REC_HDR, len) != len)
		return -EFAULT;
	afx_ring_copy(r, afx_ring_hdr_put, &h, r->idx, AFX_REC_HDR);
	virt_wmb();	/* header and data before the prod that covers them */
	r->idx += AFX_REC_HDR + len;
	WRITE_ONCE(r->sh->prod, r->idx);
	return len;
}

/*
 * Is a whole record readable?  1 and its length in *len (its flags in
 * r->rec_flags), 0 if none, or -EPROTO: the peer publishes whole records
 * only, so a partial header, a flag the reader does not take, a length
 * above the largest record or one beyond the fill level is a lie.
 */
/*
 * The header at @idx, with @room bytes from there to prod: read once
 * into private memory, then checked against the ring, never trusted.
 */
static int afx_ring_rec_hdr(struct afx_ring *r, __u32 idx, __u32 room,
			    __u32 *len, __u32 *flags)
{
	__u32 hdr;
	__u8 *h = (__u8 *)&hdr;

	if (room < AFX_REC_HDR)
		return -EPROTO;
	afx_ring_copy(r, afx_ring_hdr_copy, &h, idx, AFX_REC_HDR);
	*flags = hdr & AFX_REC_FLAGS;
	hdr &= ~AFX_REC_FLAGS;
	if ((*flags & ~r->rec_valid) || hdr > afx_ring_rec_max(r) ||
	    hdr > room - AFX_REC_HDR)
		return -EPROTO;
	*len = hdr;
	return 0;
}

int afx_ring_rec_avail(struct afx_ring *r, __u32 *len)
{
	int avail = afx_ring_rx_avail(r), err;
	__u32 flags;

	if (avail <= 0)
		return avail;
	err = afx_ring_rec_hdr(r, r->idx, avail, len, &flags);
	if (err)
		return err;
	r->rec_flags = flags;
	return 1;
}

/*
 * Payload bytes of every whole record queued (vsock's SIOCINQ on
 * seqpacket), or -EPROTO at the first header that lies.
 */
long afx_ring_rec_bytes(struct afx_ring *r)
{
	int avail = afx_ring_rx_avail(r);
	__u32 off = 0, len, flags;
	long sum = 0;

	if (avail <= 0)
		return avail;
	while (off < (__u32)avail) {
		if (afx_ring_rec_hdr(r, r->idx + off, avail - off, &len, &flags))
			return -EPROTO;
		sum += len;
		off += AFX_REC_HDR + len;
	}
	return sum;
}

/*
 * Read one record into at most buflen bytes; the rest of a longer record
 * is discarded (the caller reports MSG_TRUNC from *reclen).  Returns the
 * bytes copied, -EAGAIN if no record is ready, -EFAULT (the record stays
 * queued, nothing is lost), or -EPROTO.  peek leaves the record queued.
 */
long afx_ring_read_rec(struct afx_ring *r, afx_ring_copy_t copy, void *ctx,
		       size_t buflen, bool peek, __u32 *reclen)
{
	int ready = afx_ring_rec_avail(r, reclen);
	size_t n;

	if (ready <= 0)
		return ready ? ready : -EAGAIN;
	n = buflen < *reclen ? buflen : *reclen;
	if (afx_ring_copy(r, copy, ctx, r->idx + AFX_REC_HDR, n) != n)
		return -EFAULT;
	if (!peek) {
		virt_mb();	/* done reading before the space is freed */
		r->idx += AFX_REC_HDR + *reclen;
		WRITE_ONCE(r->sh->cons, r->idx);
	}
	return n;
}

/*
 * One producer, many consumers (mcast.c): the data is copied once into
 * the area all the consumers' rings share, at the producer index of @r
 * (a private view), then published to each consumer's ring.  The caller
 * has checked every consumer's room.  Returns the bytes copied.
 */
long afx_ring_fill(struct afx_ring *r, afx_ring_copy_t copy, void *ctx,
		   size_t len)
{
	return afx_ring_copy(r, copy, ctx, r->idx, len);
}

/* The same for one record: its bytes in the ring, or -EFAULT. */
long afx_ring_fill_rec(struct afx_ring *r, afx_ring_copy_t copy, void *ctx,
		       size_t len, __u32 flags)
{
	__u32 hdr = len | (flags & AFX_REC_FLAGS);
	__u8 *h = (__u8 *)&hdr;

	if (afx_ring_copy(r, copy, ctx, r->idx + AFX_REC_HDR, len) != len)
		return -EFAULT;
	afx_ring_copy(r, afx_ring_hdr_put, &h, r->idx, AFX_REC_HDR);
	return AFX_REC_HDR + len;
}

/* Publish everything up to @idx, filled through another view. */
void afx_ring_publish(struct afx_ring *r, __u32 idx)
{
	virt_wmb();	/* data before the prod that covers it */
	r->idx = idx;
	WRITE_ONCE(r->sh->prod, idx);
}
