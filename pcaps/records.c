/* Classic pcap records read a block at a time, for the files libpcap
 * itself would read without changing a field: the microsecond magic in
 * this machine's byte order, version 2.4 (no caplen/len swap), from a
 * seekable FILE. libpcap reads each record with two freads and copies
 * it into its own buffer; here a record is parsed where it lies: in a
 * window of the file mapped read-only (the file as it was when opened;
 * no copy of the data at all: read(2)'s copy was a fifth of the time on
 * the bench capture), then, for whatever follows (a file that grew, a
 * record cut short at the end), in blocks read into a buffer. The window
 * is unmapped before the next one, so peak RSS grows by one window only.
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
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pcaps_internal.h"

#define PCAP_MAGIC_USEC 0xa1b2c3d4u
#define FILE_HEADER 24
#define RECORD_HEADER 16
#define BLOCK (256u * 1024u)
#define WINDOW (2u * 1024u * 1024u)  /* holds a page and the longest record */
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

/* The record at h if it lies wholly within the avail bytes: fed, and
 * its length returned; 0 when it does not fit yet; -1 when libpcap must
 * read it (caplen over the snapshot). */
static long record(il_pcap_analysis *a, const uint8_t *h, size_t avail, uint32_t snap)
{
	if (avail < RECORD_HEADER)
		return 0;
	uint32_t caplen = host32(h + 8);
	if (caplen > snap)
		return -1;
	if (avail - RECORD_HEADER < caplen)
		return 0;
	int64_t sec = (int32_t)host32(h);
	int64_t usec = (int32_t)host32(h + 4);
	uint64_t ts = (uint64_t)sec * US_PER_S + (uint64_t)usec;
	il_pcap_feed_frame(a, a->dlt, ts, h + RECORD_HEADER, caplen);
	return RECORD_HEADER + (long)caplen;
}

/* Records from offset pos of a regular file, up to its size when
 * opened, a mapped window at a time. Returns the offset of the first
 * record not read: at the end, cut short by the end (the read loop
 * decides), one for libpcap (*handback), or where mapping failed. */
static off_t mapped(il_pcap_analysis *a, int fd, off_t pos, uint32_t snap, bool *handback)
{
	struct stat st;
	long page = sysconf(_SC_PAGESIZE);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || page <= 0 ||
	    (unsigned long)page > WINDOW / 2)
		return pos;
	off_t size = st.st_size;
	while (size - pos >= RECORD_HEADER) {
		off_t wbase = pos - pos % page;
		size_t wlen = size - wbase < (off_t)WINDOW ? (size_t)(size - wbase) : WINDOW;
		uint8_t *w = mmap(NULL, wlen, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, wbase);
		if (w == MAP_FAILED)
			return pos;
		off_t wend = wbase + (off_t)wlen;
		long n;
		while ((n = record(a, w + (pos - wbase), (size_t)(wend - pos), snap)) > 0)
			pos += n;
		munmap(w, wlen);
		if (n < 0) {
			*handback = true;
			return pos;
		}
		if (wend == size)
			break; /* what is left is cut short (or grew since) */
		/* Else the record at pos straddles the window's end: the next
		 * window, from pos's page, holds it whole. */
	}
	return pos;
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
	bool handback = false;
	off_t resume = mapped(a, fileno(fp), FILE_HEADER, snap, &handback);
	uint8_t *buf = NULL;
	if (handback || (resume != FILE_HEADER && fseeko(fp, resume, SEEK_SET) != 0))
		goto libpcap;
	size_t cap = BLOCK + RECORD_HEADER + (size_t)snap;
	buf = malloc(cap);
	if (!buf)
		goto libpcap;
	off_t base = resume; /* file offset of buf[0] */
	size_t have = 0, at = 0;
	bool eof = false;
	for (;;) {
		long n = record(a, buf + at, have - at, snap);
		if (n > 0) {
			at += (size_t)n;
			continue;
		}
		size_t left = have - at;
		if (n < 0)
			break;
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
		size_t got = fread(buf + have, 1, want, fp);
		have += got;
		eof = got < want;
	}
	free(buf);
	resume = base + (off_t)at;
libpcap:
	/* libpcap takes over at this record. */
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
