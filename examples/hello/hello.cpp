// One call from C++ through the header-only wrapper examples/cpp/ky_access_token.hpp.
#include <cstdio>
#include <string>

#include "ky_access_token.hpp"

int main() {
    try {
        std::string token = ky::get_access_token("223fc70098ad11e9a5898928ba7882e6");
        std::printf("%s\n", token.c_str());
    } catch (const ky::Error &e) {  // e.status(), e.api_err(), e.what() = "KY_ERR_NAME: message"
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
