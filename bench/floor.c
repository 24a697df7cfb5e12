/*
 * bench/floor.c - the floor for bench/peers.sh: the least a UDP DNS server
 * can cost on this kernel, measured beside the real servers.
 *
 * It answers every query from a socket on 127.0.0.1:PORT with the question
 * and one made-up record (an SOA for SOA questions, so that the harness's
 * readiness check passes; an A record otherwise), and looks nothing up. It
 * moves datagrams as a fast server would: blocking recvmmsg(2) of up to
 * BATCH queries, then one sendmmsg(2) of the answers, on one thread, no
 * event loop. What a real server costs above it is its own work: parsing,
 * lookup, encoding, its event loop, its bookkeeping.
 *
 *   cc -O2 -o floor bench/floor.c && ./floor 5350
 *
 * Linux only. It runs until it is killed (the harness stops it by PID).
 * Datagrams too short for a header, responses, and questions that do not
 * parse are dropped, so it never answers what a server would refuse to.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
#define MAX_QUERY 512
#define MAX_ANSWER 600

/* The SOA the readiness check looks for, and the A of every other answer. */
static const unsigned char soa_rdata[] = {
    3, 'n', 's', '1', 3, 'l', 'a', 'b', 4, 't', 'e', 's', 't', 0,
    10, 'h', 'o', 's', 't', 'm', 'a', 's', 't', 'e', 'r',
    3, 'l', 'a', 'b', 4, 't', 'e', 's', 't', 0,
    0, 0, 0, 1, 0, 0, 0x1c, 0x20, 0, 0, 0x03, 0x84, 0, 0x12, 0x75, 0, 0, 0, 1, 0x2c};
static const unsigned char a_rdata[] = {198, 18, 0, 1};

/* The length of the question section at q[12..len], or 0 if it does not parse. */
static size_t question_length(const unsigned char *q, size_t len) {
    size_t at = 12;
    while (at < len && q[at] != 0) {
        if ((q[at] & 0xc0) != 0) return 0; /* no compression in a question */
        at += 1 + q[at];
    }
    if (at >= len) return 0;
    at += 1 + 4; /* the root label, QTYPE, QCLASS */
    return at <= len ? at - 12 : 0;
}

/* Writes the answer to query q (len bytes) into out; its length, or 0 to drop. */
static size_t answer(const unsigned char *q, size_t len, unsigned char *out) {
    if (len < 12 || (q[2] & 0x80) != 0 || q[4] != 0 || q[5] != 1) return 0;
    size_t qlen = question_length(q, len);
    if (qlen == 0) return 0;
    int soa = q[12 + qlen - 4] == 0 && q[12 + qlen - 3] == 6;
    const unsigned char *rdata = soa ? soa_rdata : a_rdata;
    size_t rdlen = soa ? sizeof soa_rdata : sizeof a_rdata;
    memcpy(out, q, 12 + qlen);
    out[2] = 0x84 | (q[2] & 0x01); /* QR, AA, RD copied */
    out[3] = 0;                    /* NOERROR */
    out[6] = 0, out[7] = 1;        /* ANCOUNT 1 */
    out[8] = out[9] = out[10] = out[11] = 0;
    unsigned char *p = out + 12 + qlen;
    *p++ = 0xc0, *p++ = 12;              /* the owner: the question's name */
    *p++ = 0, *p++ = soa ? 6 : 1;        /* TYPE */
    *p++ = 0, *p++ = 1;                  /* CLASS IN */
    *p++ = 0, *p++ = 0, *p++ = 1, *p++ = 0x2c; /* TTL 300 */
    *p++ = (unsigned char)(rdlen >> 8), *p++ = (unsigned char)rdlen;
    memcpy(p, rdata, rdlen);
    return (size_t)(p + rdlen - out);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]);
    if (port <= 0 || port > 65535) {
        fprintf(stderr, "floor: bad port %s\n", argv[1]);
        return 2;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        perror("floor: cannot bind 127.0.0.1");
        return 1;
    }
    static unsigned char in[BATCH][MAX_QUERY], out[BATCH][MAX_ANSWER];
    static struct sockaddr_in peers[BATCH];
    static struct iovec in_iov[BATCH], out_iov[BATCH];
    static struct mmsghdr in_msg[BATCH], out_msg[BATCH];
    for (;;) {
        for (int i = 0; i < BATCH; i++) {
            in_iov[i] = (struct iovec){.iov_base = in[i], .iov_len = MAX_QUERY};
            in_msg[i].msg_hdr = (struct msghdr){
                .msg_name = &peers[i], .msg_namelen = sizeof peers[i],
                .msg_iov = &in_iov[i], .msg_iovlen = 1};
        }
        int n = recvmmsg(fd, in_msg, BATCH, MSG_WAITFORONE, NULL);
        if (n <= 0) continue;
        int m = 0;
        for (int i = 0; i < n; i++) {
            size_t len = answer(in[i], in_msg[i].msg_len, out[m]);
            if (len == 0) continue;
            out_iov[m] = (struct iovec){.iov_base = out[m], .iov_len = len};
            out_msg[m].msg_hdr = (struct msghdr){
                .msg_name = &peers[i], .msg_namelen = in_msg[i].msg_hdr.msg_namelen,
                .msg_iov = &out_iov[m], .msg_iovlen = 1};
            m++;
        }
        for (int sent = 0; sent < m;) {
            int k = sendmmsg(fd, out_msg + sent, (unsigned)(m - sent), 0);
            if (k <= 0) break;
            sent += k;
        }
    }
}
