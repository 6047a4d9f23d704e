/* pcap_loop.c - the "bare libpcap read loop" baseline for bench-tcp.sh.
 *
 * Opens a capture with pcap_open_offline, reads every packet with
 * pcap_next_ex, counts them and sums caplen (and folds in one byte of
 * each packet) so the compiler cannot drop the loop, and prints the totals.
 *
 *   cc -O2 bench/pcap_loop.c -lpcap -o bench/data/pcap_loop
 *   bench/data/pcap_loop FILE
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t pkts = 0, bytes = 0, mix = 0;
	pcap_t *p;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE\n", argv[0]);
		return 2;
	}
	p = pcap_open_offline(argv[1], err);
	if (!p) {
		fprintf(stderr, "pcap_loop: %s\n", err);
		return 1;
	}
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		pkts++;
		bytes += h->caplen;
		if (h->caplen)
			mix += data[h->caplen - 1];
	}
	if (rc == PCAP_ERROR) {
		fprintf(stderr, "pcap_loop: %s\n", pcap_geterr(p));
		pcap_close(p);
		return 1;
	}
	pcap_close(p);
	printf("packets %llu caplen_bytes %llu mix %llu\n", (unsigned long long)pkts,
	       (unsigned long long)bytes, (unsigned long long)mix);
	return 0;
}
