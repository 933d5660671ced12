// ky::Client and ky::ClientOptions: a client with its own settings, a rejected setting reported
// as ky::Error before any I/O, and move-only ownership of the native client.
//
//   KY_BASE_URL=http://127.0.0.1:8787 ./client_options [PROGRAM_ID]
//
// Prints one line per step and never the token itself (only its length).
#include <chrono>
#include <cstdio>
#include <string>
#include <utility>

#include "ky_access_token.hpp"

int main(int argc, char **argv) {
    const std::string program_id = argc > 1 ? argv[1] : "223fc70098ad11e9a5898928ba7882e6";
    try {
        // snippet:begin options
        // Start from the KY_* environment (KY_BASE_URL points at the sandbox), then override.
        ky::Client client(ky::ClientOptions::from_env()
                              .timeout(std::chrono::seconds(2))
                              .max_retries(1)
                              .cache_ttl(std::chrono::seconds(30))
                              .user_agent_suffix("client_options/1.0")
                              .prefetch(program_id));
        const std::string token = client.get_access_token(program_id);
        std::printf("token: %zu bytes\n", token.size());
        // snippet:end options

        // The client is move-only: ownership moves, the moved-from object holds nothing.
        ky::Client owner = std::move(client);
        std::printf("same token after move: %s\n",
                    owner.get_access_token(program_id) == token ? "yes" : "no");
        const ky_stats stats = owner.stats();
        std::printf("stats: %llu upstream request(s)\n",
                    static_cast<unsigned long long>(stats.upstream_requests));
    } catch (const ky::Error &e) {
        std::fprintf(stderr, "client_options: %s\n", e.what());
        return static_cast<int>(e.status());
    }

    // Settings are checked when the client is made: plain http:// to a remote host is refused.
    try {
        ky::Client remote(ky::ClientOptions{}.base_url("http://example.com"));
        std::printf("unexpected: a client for http://example.com\n");
        return 1;
    } catch (const ky::Error &e) {
        std::printf("rejected: %s (status %d)\n", ky_status_name(e.status()),
                    static_cast<int>(e.status()));
    }
    return 0;
}
