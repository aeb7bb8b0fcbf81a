/* Classic pcap records read a block at a time, for the files libpcap
 * itself would read without changing a field: the microsecond magic in
 * this machine's byte order, version 2.4 (no caplen/len swap), from a
 * seekable FILE. libpcap reads each record with two freads and copies
 * it into its own buffer; here a record is parsed where it lies in the
 * block (a quarter of the analysis' instructions on RTP-heavy captures).
 *
 * Anything libpcap would treat specially (a header or body cut short, a
 * caplen over the snapshot length, a read error) is left to it: the
 * FILE is put back at the start of that record and pcap_next_ex goes
 * on from there, so frames, timestamps and error messages are libpcap's
 * own. Record layout (draft-ietf-opsawg-pcap §5): ts_sec and ts_usec
 * (signed 32-bit, as libpcap's struct pcap_timeval), caplen, len. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcaps_internal.h"

#define PCAP_MAGIC_USEC 0xa1b2c3d4u
#define FILE_HEADER 24
#define RECORD_HEADER 16
#define BLOCK (256u * 1024u)
/* libpcap's MAXIMUM_SNAPLEN: a longer record may be an error for libpcap
 * (its limit depends on the link type), so it decides. */
#define PLAIN_CAPLEN_MAX 262144u

static uint32_t host32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

bool pa_records_plain_file(FILE *fp)
{
	uint8_t magic[4];
	return pread(fileno(fp), magic, sizeof magic, 0) == (ssize_t)sizeof magic &&
	       host32(magic) == PCAP_MAGIC_USEC;
}

/* The file's header says libpcap passes records through unchanged, and
 * the FILE can be put back where a record starts. */
static bool plain_pcap(pcap_t *p, FILE *fp)
{
	if (pcap_is_swapped(p) || pcap_major_version(p) != 2 || pcap_minor_version(p) != 4)
		return false;
	off_t at = ftello(fp);
	if (at != FILE_HEADER)
		return false;
	uint8_t magic[4];
	bool ok = fseeko(fp, 0, SEEK_SET) == 0 && fread(magic, 1, 4, fp) == 4 &&
		  host32(magic) == PCAP_MAGIC_USEC;
	if (fseeko(fp, at, SEEK_SET) != 0) {
		/* Cannot happen on a FILE that just seeked; libpcap would
		 * then read from the wrong place, so say so. */
		return false;
	}
	return ok;
}

int pa_records_read(il_pcap_analysis *a, pcap_t *p, bool *done, char *errbuf, size_t errlen)
{
	*done = false;
	FILE *fp = pcap_file(p);
	if (!fp || !plain_pcap(p, fp))
		return 0;
	a->dlt = pcap_datalink(p);
	int snapshot = pcap_snapshot(p);
	uint32_t snap = snapshot > 0 && (uint32_t)snapshot < PLAIN_CAPLEN_MAX ? (uint32_t)snapshot
									      : PLAIN_CAPLEN_MAX;
	size_t cap = BLOCK + RECORD_HEADER + (size_t)snap;
	uint8_t *buf = malloc(cap);
	if (!buf)
		return 0;
	off_t base = FILE_HEADER; /* file offset of buf[0] */
	size_t have = 0, at = 0;
	bool eof = false;
	for (;;) {
		size_t left = have - at;
		if (left >= RECORD_HEADER) {
			const uint8_t *h = buf + at;
			uint32_t caplen = host32(h + 8);
			if (caplen > snap)
				break;
			if (left - RECORD_HEADER >= caplen) {
				int64_t sec = (int32_t)host32(h);
				int64_t usec = (int32_t)host32(h + 4);
				uint64_t ts = (uint64_t)sec * US_PER_S + (uint64_t)usec;
				il_pcap_feed_frame(a, a->dlt, ts, h + RECORD_HEADER, caplen);
				at += RECORD_HEADER + caplen;
				continue;
			}
		}
		if (eof) {
			if (left == 0 && !ferror(fp)) {
				free(buf);
				*done = true;
				return 0;
			}
			break;
		}
		memmove(buf, buf + at, left);
		base += (off_t)at;
		have = left;
		at = 0;
		size_t want = cap - have;
		size_t n = fread(buf + have, 1, want, fp);
		have += n;
		eof = n < want;
	}
	/* libpcap takes over at this record. */
	free(buf);
	off_t resume = base + (off_t)at;
	clearerr(fp);
	if (fseeko(fp, resume, SEEK_SET) != 0) {
		*done = true;
		snprintf(a->read_error, sizeof a->read_error,
			 "cannot seek back to the record at offset %lld", (long long)resume);
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s", a->read_error);
		return -1;
	}
	return 0;
}
