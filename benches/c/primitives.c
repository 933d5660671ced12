/* Reference costs of the operations a cached hit is made of, measured in C on this machine, so the
 * hit's ns/call can be split into concrete items (see docs/benchmarks.md, "where a hit's time goes"):
 * the clock reads (Instant::now = clock_gettime(CLOCK_MONOTONIC); the coarse clock), strnlen of the
 * id, an atomic read-modify-write pair
 * (Arc clone + drop, RwLock read + unlock) on a line no other core writes and on a line another
 * core writes too, SipHash-1-3 of a 32-byte id (std's HashMap hasher), the byte-class check of a
 * 32-byte id, and the token copy. One JSON line per (op, threads):
 *
 *   primitives ITERS */
#include "bench.h"

#include <pthread.h>
#include <stdatomic.h>

#ifndef CLOCK_MONOTONIC_COARSE
#define CLOCK_MONOTONIC_COARSE 6 /* Linux's id; <time.h> declares it only with _GNU_SOURCE */
#endif

enum op { CLOCK, CLOCK_COARSE, STRNLEN_ID, RMW_PAIR_SHARED, CAS_PAIR_SHARED, RMW_PAIR_PRIVATE, SIPHASH_ID, CHECK_ID, COPY_TOKEN, OPS };
static const char *const NAMES[OPS] = {
    "clock_gettime(MONOTONIC)", "clock_gettime(MONOTONIC_COARSE)", "strnlen(32-byte id, 33)", "atomic add+sub, shared line", "atomic cas+sub, shared line",
    "atomic add+sub, own line", "siphash13(32-byte id)", "check 32 id bytes", "copy 150-byte token + NUL"};

static _Alignas(128) atomic_ulong shared_word;
static struct {
    _Alignas(128) atomic_ulong word;
} own[2];
static pthread_barrier_t start;
static long iters;
static volatile uint64_t sink;
static const char ID[] = "223fc70098ad11e9a5898928ba7882e6";

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
    (v0 += v1, v1 = ROTL(v1, 13), v1 ^= v0, v0 = ROTL(v0, 32), v2 += v3, v3 = ROTL(v3, 16), v3 ^= v2, \
     v0 += v3, v3 = ROTL(v3, 21), v3 ^= v0, v2 += v1, v1 = ROTL(v1, 17), v1 ^= v2, v2 = ROTL(v2, 32))

/* SipHash-1-3 as Rust's DefaultHasher runs it on a &str key: the bytes, then a 0xff byte. */
static uint64_t siphash13(const uint8_t *in, size_t len, uint64_t k0, uint64_t k1) {
    uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t m;
        memcpy(&m, in + i, 8);
        v3 ^= m, (void)SIPROUND, v0 ^= m;
    }
    uint64_t b = (uint64_t)len << 56;
    for (size_t j = 0; i + j < len; j++) b |= (uint64_t)in[i + j] << (8 * j);
    v3 ^= b, (void)SIPROUND, v0 ^= b, v2 ^= 0xff;
    (void)SIPROUND, (void)SIPROUND, (void)SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

static int id_byte(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-';
}

typedef struct {
    enum op op;
    int index;
    uint64_t elapsed_ns;
} job;

static void *run(void *arg) {
    job *j = arg;
    uint8_t key[33], token[151], out[151];
    memcpy(key, ID, 32), key[32] = 0xff;
    memset(token, 'x', sizeof token);
    atomic_ulong *mine = &own[j->index].word;
    uint64_t acc = 0;
    pthread_barrier_wait(&start);
    uint64_t t0 = now_ns();
    for (long i = 0; i < iters; i++) {
        switch (j->op) {
        case CLOCK: acc += now_ns(); break;
        case CLOCK_COARSE: {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
            acc += (uint64_t)ts.tv_nsec;
            break;
        }
        case STRNLEN_ID:
            key[0] = (uint8_t)('0' + (i & 7));
            acc += strnlen((const char *)key, 33);
            break;
        case RMW_PAIR_SHARED:
            atomic_fetch_add_explicit(&shared_word, 1, memory_order_relaxed);
            atomic_fetch_sub_explicit(&shared_word, 1, memory_order_release);
            break;
        case CAS_PAIR_SHARED: {
            unsigned long s = atomic_load_explicit(&shared_word, memory_order_relaxed);
            while (!atomic_compare_exchange_weak_explicit(&shared_word, &s, s + 1, memory_order_acquire,
                                                          memory_order_relaxed)) {
            }
            atomic_fetch_sub_explicit(&shared_word, 1, memory_order_release);
            break;
        }
        case RMW_PAIR_PRIVATE:
            atomic_fetch_add_explicit(mine, 1, memory_order_relaxed);
            atomic_fetch_sub_explicit(mine, 1, memory_order_release);
            break;
        case SIPHASH_ID: acc += siphash13(key, 33, (uint64_t)i, acc); break;
        case CHECK_ID: {
            int ok = 1;
            key[0] = (uint8_t)('0' + (i & 7));
            for (int k = 0; k < 32; k++) ok &= id_byte(key[k]);
            acc += (uint64_t)ok;
            break;
        }
        case COPY_TOKEN:
            token[0] = (uint8_t)i;
            memcpy(out, token, 150), out[150] = 0;
            acc += out[(size_t)i % 150];
            break;
        case OPS: break;
        }
    }
    j->elapsed_ns = now_ns() - t0;
    sink = acc;
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 2) die("usage", "primitives ITERS");
    iters = arg_long(argv[1], "ITERS");
    if (iters < 1) die("argument", "ITERS must be positive");
    for (int op = 0; op < OPS; op++) {
        for (int threads = 1; threads <= 2; threads++) {
            pthread_t tid[2];
            job jobs[2] = {{(enum op)op, 0, 0}, {(enum op)op, 1, 0}};
            pthread_barrier_init(&start, NULL, (unsigned)threads);
            for (int t = 0; t < threads; t++) pthread_create(&tid[t], NULL, run, &jobs[t]);
            double ns = 0;
            for (int t = 0; t < threads; t++) {
                pthread_join(tid[t], NULL);
                ns += (double)jobs[t].elapsed_ns / (double)iters;
            }
            pthread_barrier_destroy(&start);
            printf("{\"bench\":\"primitive\",\"op\":\"%s\",\"threads\":%d,\"ns_per_op\":%.2f}\n", NAMES[op],
                   threads, ns / threads);
        }
    }
    return 0;
}
