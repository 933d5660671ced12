/* LD_PRELOAD shim that counts the TCP connections a process opens to one port: every connect()
 * to an IPv4 address with port KY_BENCH_PORT adds one, and at exit the count is appended to the
 * file KY_BENCH_CONNECT_LOG as "connects N". Counting at the socket call works for every peer
 * (this library's ureq, libcurl, Python) where watching TIME_WAIT entries does not: a TLS
 * client that closes with a session ticket still unread resets the connection and leaves none.
 * IPv6 attempts are not counted: the sandbox listens on 127.0.0.1 only, so they never connect. */
#define _POSIX_C_SOURCE 200809L /* not _GNU_SOURCE: its connect() prototype uses a transparent union */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#ifndef RTLD_NEXT
#define RTLD_NEXT ((void *)-1l) /* glibc's value; only declared under _GNU_SOURCE */
#endif

typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);

static atomic_long count;

int connect(int fd, const struct sockaddr *addr, socklen_t len) {
    static connect_fn real;
    if (!real) *(void **)&real = dlsym(RTLD_NEXT, "connect");
    const char *port = getenv("KY_BENCH_PORT");
    if (port && addr && addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
        if (ntohs(in->sin_port) == (unsigned)atoi(port)) atomic_fetch_add(&count, 1);
    }
    return real(fd, addr, len);
}

__attribute__((destructor)) static void report(void) {
    const char *path = getenv("KY_BENCH_CONNECT_LOG");
    FILE *f = path ? fopen(path, "a") : NULL;
    if (!f) return;
    fprintf(f, "connects %ld\n", atomic_load(&count));
    fclose(f);
}
