// Text encodings of binary values in what the program prints.
#pragma once

#include <string>
#include <string_view>

namespace ocop {

std::string Base64(std::string_view bytes);
// Empty optional-style: returns false on anything but canonical base64.
bool FromBase64(std::string_view text, std::string* bytes);
std::string Hex(std::string_view bytes);

}  // namespace ocop
