// A C++17 layer over the C ABI: std::string results, exceptions for failures, RAII clients.
//
//   ky::get_access_token(id)             the process default client (configured from KY_* env)
//   ky::Client client(ky::ClientOptions::from_env().timeout(std::chrono::seconds(2)));
//   client.get_access_token(id)          a client with its own configuration, cache and threads
//
// Every failure throws ky::Error: status() is the ky_status, api_err() the upstream `err` for
// KY_ERR_API, what() is "KY_ERR_NAME: message". Header-only; link libky_access_token.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ky_access_token.h"

namespace ky {

class Error : public std::runtime_error {
public:
    Error(ky_status status, const char *message, std::int64_t api_err)
        : std::runtime_error(std::string(ky_status_name(status)) + ": " + message),
          status_(status), api_err_(api_err) {}
    ky_status status() const noexcept { return status_; }
    std::int64_t api_err() const noexcept { return api_err_; }

private:
    ky_status status_;
    std::int64_t api_err_;
};

namespace detail {

// Reads this thread's error details right after the failing call, as the C API requires.
[[noreturn]] inline void throw_last(ky_status status) {
    throw Error(status, ky_last_error_message(), ky_last_api_err());
}

inline void check(ky_status status) {
    if (status != KY_OK) throw_last(status);
}

// Shared by the default client and ky::Client: a stack buffer first, a second call with the
// exact size when the token is longer (it stays cached, so that second call does no I/O).
template <typename Get>
std::string get_token(Get get) {
    std::string token(KY_TOKEN_BUFFER_SIZE, '\0');
    ky_status status = get(&token[0], token.size());
    if (status == KY_ERR_BUFFER_TOO_SMALL) {
        token.assign(ky_last_required_size(), '\0');
        status = get(&token[0], token.size());
    }
    if (status != KY_OK) throw_last(status);
    token.resize(token.find('\0'));
    return token;
}

struct ConfigDeleter {
    void operator()(ky_config *config) const noexcept { ky_config_free(config); }
};
struct ClientDeleter {
    void operator()(ky_client *client) const noexcept { ky_client_free(client); }
};

}  // namespace detail

// The token for `program_id` from the process default client (cached, single-flight; see
// ky_get_access_token). Throws ky::Error.
inline std::string get_access_token(const std::string &program_id) {
    return detail::get_token([&](char *buf, std::size_t len) {
        return ky_get_access_token(program_id.c_str(), buf, len);
    });
}

// Drops the default client's cached token so the next get fetches afresh. Throws ky::Error for
// an invalid id.
inline void invalidate_access_token(const std::string &program_id) {
    detail::check(ky_invalidate_access_token(program_id.c_str()));
}

// Settings for a ky::Client, one per ky_config_set_* setter. Unset options keep the starting
// point: the library defaults (ClientOptions{}, which means the production API) or the KY_*
// environment (ClientOptions::from_env(), as the default client does). A plain value: copy it,
// build several clients from it. Values are checked when the client is made.
class ClientOptions {
public:
    using millis = std::chrono::milliseconds;

    static ClientOptions from_env() {
        ClientOptions options;
        options.from_env_ = true;
        return options;
    }

    ClientOptions &base_url(std::string url) { return set(base_url_, std::move(url)); }
    ClientOptions &timeout(millis value) { return set(timeout_, value); }
    ClientOptions &connect_timeout(millis value) { return set(connect_timeout_, value); }
    ClientOptions &max_retries(std::uint32_t retries) { return set(max_retries_, retries); }
    ClientOptions &cache_ttl(millis value) { return set(cache_ttl_, value); }
    ClientOptions &ca_file(std::string path) { return set(ca_file_, std::move(path)); }
    ClientOptions &ca_pem(std::string pem) { return set(ca_pem_, std::move(pem)); }
    // "http://[user:password@]host:port", "none" or "env".
    ClientOptions &proxy(std::string proxy) { return set(proxy_, std::move(proxy)); }
    ClientOptions &user_agent_suffix(std::string suffix) {
        return set(user_agent_suffix_, std::move(suffix));
    }
    ClientOptions &refresh_ahead(double fraction) { return set(refresh_ahead_, fraction); }
    ClientOptions &stale_if_error(millis value) { return set(stale_if_error_, value); }
    // A program id to keep warm (fetched at creation, refreshed ahead of expiry).
    ClientOptions &prefetch(std::string program_id) {
        prefetch_.push_back(std::move(program_id));
        return *this;
    }

private:
    friend class Client;

    template <typename T, typename V>
    ClientOptions &set(std::optional<T> &field, V &&value) {
        field = std::forward<V>(value);
        return *this;
    }

    // A new ky_config holding these options; throws ky::Error naming a rejected value.
    std::unique_ptr<ky_config, detail::ConfigDeleter> to_config() const {
        ky_config *raw = nullptr;
        detail::check(from_env_ ? ky_config_from_env(&raw) : ky_config_new(&raw));
        std::unique_ptr<ky_config, detail::ConfigDeleter> config(raw);
        ky_config *c = config.get();
        if (base_url_) detail::check(ky_config_set_base_url(c, base_url_->c_str()));
        if (timeout_) detail::check(ky_config_set_timeout_ms(c, ms(*timeout_)));
        if (connect_timeout_)
            detail::check(ky_config_set_connect_timeout_ms(c, ms(*connect_timeout_)));
        if (max_retries_) detail::check(ky_config_set_max_retries(c, *max_retries_));
        if (cache_ttl_) detail::check(ky_config_set_cache_ttl_ms(c, ms(*cache_ttl_)));
        if (ca_file_) detail::check(ky_config_set_ca_file(c, ca_file_->c_str()));
        if (ca_pem_) {
            const auto *bytes = reinterpret_cast<const std::uint8_t *>(ca_pem_->data());
            detail::check(ky_config_set_ca_pem(c, bytes, ca_pem_->size()));
        }
        if (proxy_) detail::check(ky_config_set_proxy(c, proxy_->c_str()));
        if (user_agent_suffix_)
            detail::check(ky_config_set_user_agent_suffix(c, user_agent_suffix_->c_str()));
        if (refresh_ahead_) detail::check(ky_config_set_refresh_ahead(c, *refresh_ahead_));
        if (stale_if_error_)
            detail::check(ky_config_set_stale_if_error_ms(c, ms(*stale_if_error_)));
        for (const std::string &id : prefetch_)
            detail::check(ky_config_add_prefetch(c, id.c_str()));
        return config;
    }

    // Negative durations are refused here: as 0 they would silently mean "off" for some setters.
    static std::uint64_t ms(millis value) {
        if (value.count() < 0) throw Error(KY_ERR_INVALID_ARGUMENT, "negative duration", 0);
        return static_cast<std::uint64_t>(value.count());
    }

    bool from_env_ = false;
    std::optional<std::string> base_url_, ca_file_, ca_pem_, proxy_, user_agent_suffix_;
    std::optional<millis> timeout_, connect_timeout_, cache_ttl_, stale_if_error_;
    std::optional<std::uint32_t> max_retries_;
    std::optional<double> refresh_ahead_;
    std::vector<std::string> prefetch_;
};

// An RAII ky_client: its own configuration, cache, worker threads and counters. Thread-safe (share
// one per configuration); move-only. The destructor is ky_client_free: it waits for the client's
// running async callbacks. A moved-from Client holds no handle and its calls throw
// KY_ERR_INVALID_ARGUMENT.
class Client {
public:
    explicit Client(const ClientOptions &options) {
        auto config = options.to_config();
        ky_client *raw = nullptr;
        detail::check(ky_client_new(config.get(), &raw));
        handle_.reset(raw);
    }

    std::string get_access_token(const std::string &program_id) const {
        return detail::get_token([&](char *buf, std::size_t len) {
            return ky_client_get_access_token(handle_.get(), program_id.c_str(), buf, len);
        });
    }

    void invalidate_access_token(const std::string &program_id) const {
        detail::check(ky_client_invalidate_access_token(handle_.get(), program_id.c_str()));
    }

    // Drops the cached token only if it is still `token` (the one WeChat just rejected), so a
    // burst of rejections refetches once. Returns whether it was dropped.
    bool invalidate_access_token_if(const std::string &program_id, const std::string &token) const {
        bool dropped = false;
        detail::check(ky_client_invalidate_access_token_if(handle_.get(), program_id.c_str(),
                                                           token.data(), token.size(), &dropped));
        return dropped;
    }

    ky_stats stats() const {
        ky_stats out{};
        detail::check(ky_client_stats(handle_.get(), &out, sizeof out));
        return out;
    }

    // For calls this wrapper does not cover (e.g. ky_client_get_access_token_async).
    ky_client *native_handle() const noexcept { return handle_.get(); }

private:
    std::unique_ptr<ky_client, detail::ClientDeleter> handle_;
};

}  // namespace ky
