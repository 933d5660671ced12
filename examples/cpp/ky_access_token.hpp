// A minimal C++17 convenience layer over the C ABI: std::string results, exceptions for failures.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

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

// The token for `program_id` (cached, single-flight; see ky_get_access_token). Throws ky::Error.
inline std::string get_access_token(const std::string &program_id) {
    std::string token(KY_TOKEN_BUFFER_SIZE, '\0');
    ky_status status = ky_get_access_token(program_id.c_str(), &token[0], token.size());
    if (status == KY_ERR_BUFFER_TOO_SMALL) {
        token.assign(ky_last_required_size(), '\0');
        status = ky_get_access_token(program_id.c_str(), &token[0], token.size());
    }
    if (status != KY_OK) throw Error(status, ky_last_error_message(), ky_last_api_err());
    token.resize(token.find('\0'));
    return token;
}

// Drops the cached token so the next get fetches afresh. Throws ky::Error for an invalid id.
inline void invalidate_access_token(const std::string &program_id) {
    ky_status status = ky_invalidate_access_token(program_id.c_str());
    if (status != KY_OK) throw Error(status, ky_last_error_message(), ky_last_api_err());
}

}  // namespace ky
