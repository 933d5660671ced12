// A game-server-style loop: get the token on every tick (a cache hit almost always), call a WeChat
// API with it, and when WeChat says the token is no longer valid, invalidate and fetch again.
//
//   KY_BASE_URL=http://127.0.0.1:8787 ./game_server [PROGRAM_ID]
//
// The default id, `rotating-demo`, makes the sandbox issue a new token on every request, as if
// Tianmu had refreshed it in between.
//
// The WeChat call is simulated locally (no network): it rejects the first token it sees with
// errcode 40001, as WeChat does after Tianmu's hourly refresh once the 5-minute overlap is over.
//
// The server owns a ky::Client configured from the KY_* environment (KY_BASE_URL, ...), with its
// own User-Agent suffix. Failures exit with the ky_status code and "KY_ERR_NAME: message".
#include <chrono>
#include <cstdio>
#include <string>

#include "ky_access_token.hpp"

namespace {

// WeChat errcodes meaning "this access_token is not (or no longer) valid".
constexpr int kInvalidCredential = 40001;
constexpr int kAccessTokenExpired = 42001;

// Stand-in for e.g. POST https://api.weixin.qq.com/wxa/msg_sec_check?access_token=...
int call_wechat_api(const std::string &token, const std::string &rejected_token) {
    return token == rejected_token ? kInvalidCredential : 0;
}

std::string redacted(const std::string &token) {
    return token.substr(0, 6) + "... (" + std::to_string(token.size()) + " bytes)";
}

}  // namespace

int main(int argc, char **argv) {
    const std::string program_id = argc > 1 ? argv[1] : "rotating-demo";
    try {
        const ky::Client client(ky::ClientOptions::from_env()
                                    .user_agent_suffix("game_server/1.0")
                                    .connect_timeout(std::chrono::seconds(2)));
        // Pretend WeChat already considers the currently served token stale.
        const std::string stale = client.get_access_token(program_id);
        int refreshed = 0;
        for (int tick = 1; tick <= 5; ++tick) {
            std::string token = client.get_access_token(program_id);
            int errcode = call_wechat_api(token, stale);
            if (errcode == kInvalidCredential || errcode == kAccessTokenExpired) {
                // Never fetch from WeChat yourself (that would invalidate Tianmu's token): drop the
                // cached copy, only if it is still the rejected one, and ask Tianmu again.
                std::printf("tick %d: WeChat errcode %d for %s -> invalidate and refetch\n", tick,
                            errcode, redacted(token).c_str());
                client.invalidate_access_token_if(program_id, token);
                token = client.get_access_token(program_id);
                errcode = call_wechat_api(token, stale);
                ++refreshed;
            }
            std::printf("tick %d: token %s, WeChat errcode %d\n", tick, redacted(token).c_str(), errcode);
            if (errcode != 0) return 1;
        }
        const ky_stats stats = client.stats();
        std::printf("done: %d refresh(es); %llu cache hits, %llu upstream requests\n", refreshed,
                    static_cast<unsigned long long>(stats.cache_hits),
                    static_cast<unsigned long long>(stats.upstream_requests));
        return 0;
    } catch (const ky::Error &e) {
        std::fprintf(stderr, "game_server: %s\n", e.what());
        if (e.status() == KY_ERR_API)
            std::fprintf(stderr, "game_server: upstream err=%lld\n", static_cast<long long>(e.api_err()));
        return static_cast<int>(e.status());
    }
}
