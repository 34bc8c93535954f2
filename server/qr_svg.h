// A QR code as an SVG image (Debian's libqrencode), for the label of a
// certified product: it points to the product's public verification page.
#pragma once

#include <string>

#include "ledger/status.h"

namespace ocop::server {

// The QR code of `text` (error correction level M, a quiet zone of 4
// modules), as a standalone SVG document.
Status QrSvg(const std::string& text, std::string* svg);

}  // namespace ocop::server
