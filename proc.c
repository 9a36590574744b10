// SPDX-License-Identifier: GPL-2.0
/*
 * af_xen: /proc/net/af_xen (one line per socket), af_xen_stat (resources
 * held, for leak tests), af_xen_events (the storm detector's margin) and
 * af_xen_timing (where connects spend their time), af_xen_chan (the
 * control channels, chan.c) and af_xen_mcast (publishers, mcast.c).
 *
 * Locking: the socket list is walked under afx_table_lock (af_xen.c);
 * a line reads its socket's fields without the socket lock, as a
 * snapshot that may be a moment stale.
 */
#include "afx_sock.h"

#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/math64.h>
#include <net/net_namespace.h>
#include <net/sock.h>

static const char *afx_state_name(const struct afx_sock *xs)
{
	switch (xs->sk.sk_state) {
	case TCP_LISTEN:
		return "LISTEN";
	case TCP_SYN_SENT:
		return "SYN_SENT";
	case TCP_ESTABLISHED:
		if (afx_ring_peer_eof(&xs->link.conn.rx))
			return "CLOSE_WAIT";
		return "ESTABLISHED";
	default:
		return "CLOSE";
	}
}

static void *afx_seq_start(struct seq_file *seq, loff_t *pos)
	__acquires(&afx_table_lock)
{
	spin_lock_bh(&afx_table_lock);
	return seq_list_start_head(&afx_sockets, *pos);
}

static void *afx_seq_next(struct seq_file *seq, void *v, loff_t *pos)
{
	return seq_list_next(v, &afx_sockets, pos);
}

static void afx_seq_stop(struct seq_file *seq, void *v)
	__releases(&afx_table_lock)
{
	spin_unlock_bh(&afx_table_lock);
}

/* Counters are read without the socket lock: a snapshot, not a promise. */
static int afx_seq_show(struct seq_file *seq, void *v)
{
	struct afx_sock *xs;
	struct afx_ring *tx, *rx;
	struct xen_so_stats st;

	if (v == &afx_sockets) {
		seq_puts(seq, "Inode State Local Peer RingSize TxBytes RxBytes TxNotify RxNotify TxQueued RxQueued\n");
		return 0;
	}
	xs = list_entry(v, struct afx_sock, all);
	tx = &xs->link.conn.tx;
	rx = &xs->link.conn.rx;
	afx_get_stats(xs, &st);
	/* sock_i_ino(): unsigned long before 7.1, u64 since */
	seq_printf(seq, "%llu %s %u:%u %u:%u %u %llu %llu %llu %llu %u %u\n",
		   (u64)sock_i_ino(&xs->sk), afx_state_name(xs), afx_xs_self(),
		   xs->link.port, xs->link.peer, xs->link.peer_port, xs->ring_size,
		   st.bytes_sent, st.bytes_received, st.notifies_sent,
		   st.notifies_received,
		   xs->link.conn_up ? READ_ONCE(tx->idx) - READ_ONCE(tx->peer_idx) : 0,
		   xs->link.conn_up ? READ_ONCE(rx->peer_idx) - READ_ONCE(rx->idx) : 0);
	return 0;
}

static const struct seq_operations afx_seq_ops = {
	.start = afx_seq_start,
	.next = afx_seq_next,
	.stop = afx_seq_stop,
	.show = afx_seq_show,
};

/*
 * /proc/net/af_xen_stat: what the module holds right now.  Leak tests
 * read it before and after; everything must come back to where it was
 * (grants may lag while a peer still maps pages we gave back).
 */
static int afx_stat_show(struct seq_file *seq, void *v)
{
	unsigned int n = 0;
	struct afx_sock *xs;

	spin_lock_bh(&afx_table_lock);
	list_for_each_entry(xs, &afx_sockets, all)
		n++;
	spin_unlock_bh(&afx_table_lock);
	seq_printf(seq, "sockets %u\ngrants %d\nmapped %d\nevtchns %d\nxs_watches %d\nleaked %d\n",
		   n, atomic_read(&afx_nr_grants), atomic_read(&afx_nr_mapped),
		   atomic_read(&afx_nr_evtchns), afx_xs_nr_watches(false),
		   atomic_read(&afx_nr_leaked));
	return 0;
}

/* ----- Where connects spend their time ----- */

atomic64_t afx_tm_ns[AFX_TM_NR];
atomic_t afx_tm_count[AFX_TM_NR];

static const char *const afx_tm_names[AFX_TM_NR] = {
	[AFX_TM_PRESENT] = "connect_peer_read",
	[AFX_TM_OFFER] = "connect_grant_evtchn",
	[AFX_TM_OFFER_PAGES] = "connect_offer_pages",
	[AFX_TM_OFFER_VMAP] = "connect_offer_vmap",
	[AFX_TM_OFFER_EVTCHN] = "connect_offer_evtchn",
	[AFX_TM_WATCH] = "connect_watch",
	[AFX_TM_WRITE] = "connect_request_write",
	[AFX_TM_WAIT] = "connect_answer_wait",
	[AFX_TM_FINISH] = "connect_finish",
	[AFX_TM_READ] = "accept_request_read",
	[AFX_TM_MAP] = "accept_map",
	[AFX_TM_BIND] = "accept_evtchn_bind",
	[AFX_TM_ANSWER] = "accept_answer_write",
	[AFX_TM_SEND] = "send_call",
	[AFX_TM_SEND_COPY] = "send_copy",
	[AFX_TM_SEND_NOTIFY] = "send_notify",
	[AFX_TM_SEND_WAIT] = "send_wait_room",
	[AFX_TM_RECV] = "recv_call",
	[AFX_TM_RECV_COPY] = "recv_copy",
	[AFX_TM_RECV_NOTIFY] = "recv_notify",
	[AFX_TM_RECV_WAIT] = "recv_wait_data",
	[AFX_TM_RECV_WAKE] = "recv_wake_latency",
	[AFX_TM_RECV_LINGER] = "recv_linger",
};

/* Lock-free: the steps of concurrent connects simply add up. */
void afx_tm_add(enum afx_tm step, ktime_t since)
{
	atomic64_add(ktime_to_ns(ktime_sub(ktime_get(), since)),
		     &afx_tm_ns[step]);
	atomic_inc(&afx_tm_count[step]);
}

/*
 * One line per step: its name, how often, the mean in microseconds, and
 * the total in microseconds.  Writing anything zeroes them all.
 */
static int afx_timing_show(struct seq_file *seq, void *v)
{
	int i, n;

	for (i = 0; i < AFX_TM_NR; i++) {
		n = atomic_read(&afx_tm_count[i]);
		seq_printf(seq, "%s %d %lld %lld\n", afx_tm_names[i], n,
			   n ? div_s64(atomic64_read(&afx_tm_ns[i]), 1000LL * n) : 0,
			   div_s64(atomic64_read(&afx_tm_ns[i]), 1000));
	}
	return 0;
}

static int afx_timing_open(struct inode *inode, struct file *file)
{
	return single_open(file, afx_timing_show, NULL);
}

static ssize_t afx_timing_write(struct file *file, const char __user *buf,
				size_t len, loff_t *pos)
{
	int i;

	for (i = 0; i < AFX_TM_NR; i++) {
		atomic64_set(&afx_tm_ns[i], 0);
		atomic_set(&afx_tm_count[i], 0);
	}
	return len;
}

static const struct proc_ops afx_timing_ops = {
	.proc_open = afx_timing_open,
	.proc_read = seq_read,
	.proc_lseek = seq_lseek,
	.proc_release = single_release,
	.proc_write = afx_timing_write,
};

/*
 * Control channels: what they hold (kept out of af_xen_stat), how many
 * connects went over one and how many through xenstore, then one line
 * per channel.
 */
static int afx_chan_stat_show(struct seq_file *seq, void *v)
{
	seq_printf(seq, "channels %d\ngrants %d\nmapped %d\nevtchns %d\nxs_watches %d\nconnects_chan %ld\nconnects_xs %ld\n",
		   atomic_read(&afx_nr_chans), atomic_read(&afx_chan_grants),
		   atomic_read(&afx_chan_mapped),
		   atomic_read(&afx_chan_evtchns), afx_xs_nr_watches(true),
		   atomic_long_read(&afx_chan_connects),
		   atomic_long_read(&afx_xs_connects));
	afx_chan_show(seq);
	return 0;
}

static int afx_mcast_stat_show(struct seq_file *seq, void *v)
{
	afx_mcast_show(seq);
	return 0;
}

/* ----- Registration ----- */

/* Legitimate traffic's distance from the storm limit; not a leak count. */
static int afx_events_show(struct seq_file *seq, void *v)
{
	seq_printf(seq, "events %ld\nspurious %ld\nstreak_max %d\nstorms %d\nstorm_streak %d\n",
		   atomic_long_read(&afx_nr_events),
		   atomic_long_read(&afx_nr_spurious),
		   atomic_read(&afx_streak_max), atomic_read(&afx_nr_storms),
		   AFX_STORM_STREAK);
	return 0;
}

int afx_proc_init(void)
{
	if (proc_create_seq("af_xen", 0444, init_net.proc_net, &afx_seq_ops) &&
	    proc_create_single("af_xen_stat", 0444, init_net.proc_net,
			       afx_stat_show) &&
	    proc_create_single("af_xen_events", 0444, init_net.proc_net,
			       afx_events_show) &&
	    proc_create("af_xen_timing", 0644, init_net.proc_net,
			&afx_timing_ops) &&
	    proc_create_single("af_xen_chan", 0444, init_net.proc_net,
			       afx_chan_stat_show) &&
	    proc_create_single("af_xen_mcast", 0444, init_net.proc_net,
			       afx_mcast_stat_show))
		return 0;
	afx_proc_exit();
	return -ENOMEM;
}

void afx_proc_exit(void)
{
	remove_proc_entry("af_xen_mcast", init_net.proc_net);
	remove_proc_entry("af_xen_chan", init_net.proc_net);
	remove_proc_entry("af_xen_timing", init_net.proc_net);
	remove_proc_entry("af_xen_events", init_net.proc_net);
	remove_proc_entry("af_xen_stat", init_net.proc_net);
	remove_proc_entry("af_xen", init_net.proc_net);
}
