/* Footprint of loading and using the library: RSS added by dlopen, by the first call (the default
 * client configured from the environment, plus one fetch), and by 1000 programs cached; and the
 * time of dlopen + first call. The library is loaded with dlopen so its cost is measured apart
 * from the process's own start-up.
 *
 *   footprint LIBRARY_PATH PROGRAMS
 *
 * KY_BASE_URL (and KY_CA_FILE for HTTPS) name the sandbox. One JSON line. */
#include "bench.h"

#include <dlfcn.h>

typedef int32_t (*get_fn)(const char *, char *, size_t);

int main(int argc, char **argv) {
    if (argc != 3) die("usage", "footprint LIBRARY_PATH PROGRAMS");
    long programs = arg_long(argv[2], "PROGRAMS");
    char buf[1024], id[33];
    long rss0 = rss_kib();
    uint64_t t0 = now_ns();
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    uint64_t t1 = now_ns();
    if (!lib) die("dlopen", dlerror());
    long rss_loaded = rss_kib();
    get_fn get;
    *(void **)&get = dlsym(lib, "ky_get_access_token"); /* POSIX's blessed object-to-function cast */
    if (!get) die("dlsym", dlerror());
    uint64_t t2 = now_ns();
    if (get("223fc70098ad11e9a5898928ba7882e6", buf, sizeof buf) != 0) die("first call", "not KY_OK");
    uint64_t t3 = now_ns();
    if (get("223fc70098ad11e9a5898928ba7882e6", buf, sizeof buf) != 0) die("second call", "not KY_OK");
    uint64_t t4 = now_ns();
    long rss_first = rss_kib();
    for (long i = 0; i < programs; i++) {
        snprintf(id, sizeof id, "footprint-%ld", i);
        if (get(id, buf, sizeof buf) != 0) die("caching a program", id);
    }
    long rss_many = rss_kib();
    printf("{\"bench\":\"footprint\",\"dlopen_us\":%.1f,\"first_call_us\":%.1f,\"second_call_us\":%.2f,"
           "\"load_and_first_call_us\":%.1f,\"rss_before_kib\":%ld,\"rss_dlopen_kib\":%ld,"
           "\"rss_first_call_kib\":%ld,\"programs\":%ld,\"rss_programs_kib\":%ld}\n",
           (t1 - t0) / 1e3, (t3 - t2) / 1e3, (t4 - t3) / 1e3, ((t1 - t0) + (t3 - t2)) / 1e3, rss0,
           rss_loaded - rss0, rss_first - rss_loaded, programs, rss_many - rss_first);
    return 0;
}
